from django.urls import path

from subscriptions import views

app_name = "subscriptions"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("subscriptions/<int:pk>/", views.subscription_detail, name="subscription_detail"),
]
