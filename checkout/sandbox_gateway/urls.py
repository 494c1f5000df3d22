from django.urls import path

from checkout.sandbox_gateway import views

app_name = "sandbox_gateway"

urlpatterns = [
    path("v1/tokens/", views.tokens, name="tokens"),
    path("cards/new/", views.card_page, name="card_page"),
    path("authenticate/<str:reference>/", views.authenticate, name="authenticate"),
]
