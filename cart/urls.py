from django.urls import path

from cart import views

app_name = "cart"

# The cart page, "cart:detail" (/billing/cart/), is served by checkout (checkout.urls.cart_patterns:
# it is priced by checkout); billing_center.urls puts it in this namespace.

urlpatterns = [
    path("add/", views.add_subscription, name="add"),
    path("add/<slug:slug>/buy/cycle/", views.choose_cycle, name="cycle"),
    path("add/<slug:slug>/try/start/", views.start_trial, name="start_trial"),
    path("add/<slug:slug>/<str:mode>/", views.configure, name="configure"),
    path("cart/items/<int:pk>/", views.update_cart_item, name="update_item"),
    path("cart/items/<int:pk>/remove/", views.remove_cart_item, name="remove_item"),
]
