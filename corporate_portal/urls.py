from django.urls import path

from corporate_portal import views

# Quotes and service orders: under /corporate/ and, for accounts that moved, under /billing/.
quote_patterns = [
    path("quotes/", views.quote_list, name="quotes"),
    path("quotes/<str:number>/", views.quote_detail, name="quote_detail"),
    path("quotes/<str:number>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("quotes/<str:number>/reject/", views.reject_quote, name="reject_quote"),
    path("quotes/<str:number>/payment/", views.proceed_to_payment, name="payment"),
    path("service-orders/", views.service_order_list, name="service_orders"),
    path("service-orders/<int:pk>/", views.service_order_detail, name="service_order_detail"),
    path("service-orders/<int:pk>/place/", views.place_service_order, name="place_service_order"),
]

corporate_patterns = [
    path("", views.subscriptions, name="subscriptions"),
    path("add-seats/", views.add_seats, name="add_seats"),
    path("payment-method/", views.payment_method, name="payment_method"),
    path("invoices/", views.invoice_list, name="invoices"),
    *quote_patterns,
]
