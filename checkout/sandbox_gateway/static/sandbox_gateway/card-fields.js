// The sandbox processor's card fields, like a processor's own (Stripe's card element): mounted
// into [data-card-fields] on the merchant's page, they send the card to the processor and put
// only its token into the merchant's form. Their inputs have no name: the card number, expiry
// and security code are never part of what the merchant's form posts.
(() => {
  const TOKENS = "/sandbox-gateway/v1/tokens/";

  function field(mount, name, label, attrs) {
    const wrapper = document.createElement("div");
    wrapper.className = "field";
    const id = `sandbox-card-${name}`;
    const labelElement = document.createElement("label");
    labelElement.htmlFor = id;
    labelElement.textContent = label;
    const input = document.createElement("input");
    input.id = id;
    input.type = "text";
    input.dataset.cardField = name;
    Object.entries(attrs).forEach(([key, value]) => input.setAttribute(key, value));
    const error = document.createElement("div");
    error.className = "errorlist";
    error.id = `${id}-error`;
    error.hidden = true;
    input.setAttribute("aria-describedby", error.id);
    wrapper.append(labelElement, input, error);
    mount.append(wrapper);
    return { wrapper, input, error };
  }

  function mountFields(mount) {
    const form = mount.closest("form");
    const tokenInput = form.querySelector("input[name=card_token]");
    const fallback = form.querySelector("[data-card-fallback]");
    const entered = form.querySelector("[data-entered-card]");
    const text = mount.dataset;
    const number = field(mount, "number", text.labelNumber, {
      autocomplete: "cc-number",
      inputmode: "numeric",
    });
    const row = document.createElement("div");
    row.className = "field-row";
    mount.append(row);
    const expiry = field(row, "expiry", text.labelExpiry, {
      autocomplete: "cc-exp",
      placeholder: text.placeholderExpiry,
    });
    const cvc = field(row, "cvc", text.labelCvc, { autocomplete: "cc-csc", inputmode: "numeric" });
    const fields = { number, expiry, cvc };
    const general = document.createElement("div");
    general.className = "errorlist";
    general.setAttribute("role", "alert");
    general.hidden = true;
    mount.append(general);
    mount.hidden = false;
    if (fallback) fallback.hidden = true;

    // A card entered before (the hosted page, or a page shown again): kept until another is typed.
    for (const { input } of Object.values(fields)) {
      input.addEventListener("input", () => {
        if (tokenInput.value) tokenInput.value = "";
        if (entered) entered.hidden = true;
      });
    }

    const usesNewCard = () => {
      const chosen = form.querySelector("input[name=payment]:checked");
      const radios = form.querySelectorAll("input[name=payment]");
      return radios.length === 0 || (chosen && chosen.value === "new");
    };

    const showErrors = (errors) => {
      general.hidden = true;
      for (const [name, { wrapper, input, error }] of Object.entries(fields)) {
        const messages = errors[name] || [];
        error.textContent = messages.join(" ");
        error.hidden = messages.length === 0;
        wrapper.classList.toggle("field--error", messages.length > 0);
        input.setAttribute("aria-invalid", messages.length > 0 ? "true" : "false");
      }
      const other = errors.__all__ || [];
      if (other.length) {
        general.textContent = other.join(" ");
        general.hidden = false;
      }
      const first = Object.values(fields).find(({ input }) => input.getAttribute("aria-invalid") === "true");
      if (first) first.input.focus();
    };

    let sending = false;
    form.addEventListener("submit", async (event) => {
      if (!usesNewCard() || tokenInput.value) return;
      event.preventDefault();
      if (sending) return;
      sending = true;
      const submitter = event.submitter;
      const body = new URLSearchParams({
        key: text.key,
        number: number.input.value,
        expiry: expiry.input.value,
        cvc: cvc.input.value,
        lang: document.documentElement.lang || "",
      });
      try {
        const response = await fetch(TOKENS, { method: "POST", body, credentials: "omit" });
        const answer = await response.json();
        if (!response.ok) {
          showErrors(answer.errors || { __all__: [text.failed] });
          return;
        }
        tokenInput.value = answer.token;
        for (const { input } of Object.values(fields)) input.value = "";
        form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      } catch (error) {
        showErrors({ __all__: [text.failed] });
      } finally {
        sending = false;
      }
    });
  }

  const start = () => document.querySelectorAll("[data-card-fields]").forEach(mountFields);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
