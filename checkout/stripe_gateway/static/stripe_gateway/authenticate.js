// Stripe.js asks the customer to authenticate (3-D Secure) a payment or a card setup that our
// server confirmed, then we go back to the return URL, whose page asks Stripe how it ended:
// whatever happens here, nothing is decided in the browser.
(() => {
  const start = async () => {
    const box = document.querySelector("[data-stripe-authenticate]");
    if (!box || typeof Stripe === "undefined") return;
    const { key, kind, clientSecret, returnUrl } = box.dataset;
    const stripe = Stripe(key);
    try {
      if (typeof stripe.handleNextAction === "function") {
        await stripe.handleNextAction({ clientSecret });
      } else if (kind === "payment") {
        // Stripe.js before handleNextAction, and localstripe's: confirming a PaymentIntent that
        // requires action shows the authentication.
        await stripe.confirmCardPayment(clientSecret);
      }
    } finally {
      window.location.assign(returnUrl);
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
