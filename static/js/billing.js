// Enhancements only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // The language switcher submits as soon as a language is picked; its button stays for no-JS.
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    const select = form.querySelector("select");
    const button = form.querySelector("button");
    if (!select) continue;
    if (button) button.classList.add("visually-hidden");
    select.addEventListener("change", () => form.submit());
  }
});
