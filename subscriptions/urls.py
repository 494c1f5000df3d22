from django.urls import path

from subscriptions import views

app_name = "subscriptions"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("balance/", views.account_balance, name="balance"),
    path("subscriptions/<int:pk>/", views.subscription_detail, name="subscription_detail"),
    path("subscriptions/<int:pk>/seats/", views.seats, name="seats"),
    path("subscriptions/<int:pk>/seats/assign/", views.assign_seat, name="assign_seat"),
    path("subscriptions/<int:pk>/seats/unassign/", views.unassign_seat, name="unassign_seat"),
    path("subscriptions/<int:pk>/seats/invite/", views.invite, name="invite"),
    path("subscriptions/<int:pk>/trial-started/", views.trial_started, name="trial_started"),
    path("subscriptions/<int:pk>/cancel/", views.cancel_subscription, name="cancel"),
    path("subscriptions/<int:pk>/resume/", views.resume_subscription, name="resume"),
]
