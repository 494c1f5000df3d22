from django.urls import path

from checkout import views

app_name = "checkout"

# The cart page, priced as the checkout prices it: in the "cart" namespace ("cart:detail"), next
# to the cart's own edits (billing_center.urls joins them).
cart_patterns = [
    path("cart/", views.cart_detail, name="detail"),
]

urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("subscriptions/<int:pk>/change/", views.change_subscription, name="change_subscription"),
    path("subscriptions/<int:pk>/cancel-now/", views.cancel_suspended, name="cancel_suspended"),
    path("orders/<str:number>/", views.order_confirmation, name="order_confirmation"),
    path("payments/<uuid:public_id>/", views.payment_status, name="payment_status"),
    path("payments/<uuid:public_id>/return/", views.payment_return, name="payment_return"),
    path("payment-methods/", views.payment_methods, name="payment_methods"),
    path(
        "payment-methods/<int:pk>/default/",
        views.make_default_payment_method,
        name="make_default_payment_method",
    ),
    path(
        "payment-methods/<int:pk>/confirmed/",
        views.card_setup_return,
        name="card_setup_return",
    ),
    path(
        "payment-methods/<int:pk>/remove/",
        views.remove_payment_method_view,
        name="remove_payment_method",
    ),
    path("billing-information/", views.billing_information, name="billing_information"),
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/<str:number>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<str:number>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<str:number>/xml/", views.invoice_xml, name="invoice_xml"),
    path("invoices/<str:number>/pay/", views.pay_invoice, name="pay_invoice"),
]
