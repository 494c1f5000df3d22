from django.urls import path

from checkout import views

app_name = "checkout"

urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("orders/<str:number>/", views.order_confirmation, name="order_confirmation"),
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/<str:number>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<str:number>/pdf/", views.invoice_pdf, name="invoice_pdf"),
]
