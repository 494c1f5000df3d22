// Enhancements only: every page works without this file.
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  // The language switcher submits as soon as a language is picked; its button stays for no-JS.
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    const select = form.querySelector("select");
    const button = form.querySelector("button");
    if (!select) continue;
    if (button) button.hidden = true; // not a keyboard stop nobody can see
    select.addEventListener("change", () => form.submit());
  }

  // A form with errors: its summary has the focus (autofocus does it where supported).
  const summary = document.querySelector("[data-error-summary]");
  if (summary && document.activeElement !== summary) summary.focus();

  // Seat steppers: − and + change the number in place instead of reloading the page. They stop
  // being submit buttons named "adjust": htmx sends the last button clicked with the live
  // preview's request, and the server would then add one more seat to the number already shown.
  for (const stepper of document.querySelectorAll("[data-stepper]")) {
    const input = stepper.querySelector("input");
    for (const button of stepper.querySelectorAll("button[name=adjust]")) {
      button.type = "button";
      button.dataset.adjust = button.value;
      button.removeAttribute("name");
      button.removeAttribute("value");
      button.addEventListener("click", (event) => {
        event.preventDefault();
        const current = parseInt(input.value, 10) || 0;
        input.value = Math.max(1, current + parseInt(button.dataset.adjust, 10));
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }
  }

  // Checkout: the new-card fields show only when "A new card" is chosen.
  const newCard = document.querySelector("[data-new-card]");
  if (newCard) {
    const radios = document.querySelectorAll("input[name=payment]");
    const sync = () => {
      const chosen = document.querySelector("input[name=payment]:checked");
      newCard.hidden = radios.length > 1 && (!chosen || chosen.value !== "new");
    };
    radios.forEach((radio) => radio.addEventListener("change", sync));
    sync();
  }
});
