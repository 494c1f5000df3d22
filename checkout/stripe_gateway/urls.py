from django.urls import path

from checkout.stripe_gateway import views

app_name = "stripe_gateway"

urlpatterns = [
    path("card-setups/", views.card_setup, name="card_setup"),
    path("authenticate/<str:token>/", views.authenticate, name="authenticate"),
    path("webhooks/", views.webhook, name="webhook"),
]
