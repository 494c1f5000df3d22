// Stripe's card element on our pages, in [data-card-fields] (the same mount as the sandbox's
// fields). On submit, our server starts a SetupIntent for the signed-in account
// (data-setup-url), Stripe.js confirms it with the card typed into Stripe's element (asking
// for the bank's authentication if the card wants it), and only the PaymentMethod id goes into
// our form's card_token. The card number never reaches our server.
(() => {
  function mountFields(mount) {
    const form = mount.closest("form");
    const tokenInput = form.querySelector("input[name=card_token]");
    const nameInput = form.querySelector("input[name=cardholder_name]");
    const fallback = form.querySelector("[data-card-fallback]");
    const entered = form.querySelector("[data-entered-card]");
    const text = mount.dataset;
    if (typeof Stripe === "undefined") return; // Stripe.js did not load: the fallback stays
    const stripe = Stripe(text.key, { locale: document.documentElement.lang || "auto" });
    const label = document.createElement("label");
    label.textContent = text.labelCard;
    const host = document.createElement("div");
    host.className = "stripe-card";
    label.htmlFor = host.id = "stripe-card-element";
    const error = document.createElement("div");
    error.className = "errorlist";
    error.setAttribute("role", "alert");
    error.hidden = true;
    mount.append(label, host, error);
    mount.hidden = false;
    if (fallback) fallback.hidden = true;
    const card = stripe.elements().create("card", { hidePostalCode: true });
    card.mount(host);
    card.on("change", () => {
      if (tokenInput.value) tokenInput.value = "";
      if (entered) entered.hidden = true;
    });

    const usesNewCard = () => {
      const chosen = form.querySelector("input[name=payment]:checked");
      const radios = form.querySelectorAll("input[name=payment]");
      return radios.length === 0 || (chosen && chosen.value === "new");
    };
    // Stripe's own messages for what is typed (in the page's language); ours for its answers.
    const describe = (problem) => {
      if (!problem) return text.failed;
      if (problem.type === "validation_error" && problem.message) return problem.message;
      if (problem.code === "card_declined" || problem.decline_code) return text.declined;
      if (/authentication/i.test(`${problem.code || ""} ${problem.message || ""}`)) {
        return text.authenticationFailed;
      }
      return text.failed;
    };
    const showError = (message) => {
      error.textContent = message || text.failed;
      error.hidden = false;
    };
    const csrf = () => form.querySelector("input[name=csrfmiddlewaretoken]").value;

    let sending = false;
    form.addEventListener("submit", async (event) => {
      if (!usesNewCard() || tokenInput.value) return;
      event.preventDefault();
      if (sending) return;
      sending = true;
      error.hidden = true;
      const submitter = event.submitter;
      try {
        const response = await fetch(text.setupUrl, {
          method: "POST",
          headers: { "X-CSRFToken": csrf() },
          credentials: "same-origin",
        });
        const answer = await response.json();
        if (!response.ok) {
          showError(answer.error);
          return;
        }
        const result = await stripe.confirmCardSetup(answer.client_secret, {
          payment_method: {
            card,
            billing_details: { name: nameInput ? nameInput.value : "" },
          },
        });
        if (result.error || !result.setupIntent) {
          showError(describe(result.error));
          return;
        }
        tokenInput.value = result.setupIntent.payment_method;
        form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      } catch (problem) {
        showError();
      } finally {
        sending = false;
      }
    });
  }

  const start = () => document.querySelectorAll("[data-card-fields]").forEach(mountFields);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
