"""URLs of payout orders and batches (enterprise portal and partner API); ``payouts.urls`` adds them."""

from django.urls import path

from payouts import api_orders
from payouts.portal import orders
from payouts.services import dispatch  # noqa: F401  (registers the payout-result notification handler at start-up)

enterprise_urlpatterns = [
    path("payouts/orders/", orders.orders, name="payouts-orders"),
    path("payouts/orders/new/", orders.order_new, name="payouts-order-new"),
    path("payouts/orders/<int:order_id>/", orders.order_detail, name="payouts-order"),
    path("payouts/orders/<int:order_id>/action/", orders.order_action, name="payouts-order-action"),
    path("payouts/orders/<int:order_id>/receipt.pdf", orders.order_receipt, name="payouts-order-receipt"),
    path("payouts/sms/", orders.sms_send, name="payouts-sms"),
    path("payouts/batches/", orders.batches, name="payouts-batches"),
    path("payouts/batches/<int:batch_id>/", orders.batch_detail, name="payouts-batch"),
    path("payouts/batches/<int:batch_id>/progress.json", orders.batch_progress, name="payouts-batch-progress"),
    path("payouts/batches/<int:batch_id>/action/", orders.batch_action, name="payouts-batch-action"),
    path("payouts/template.<str:fmt>", orders.batch_template, name="payouts-template"),
    path("payouts/vouchers.xlsx", orders.vouchers, name="payouts-vouchers"),
]

api_urlpatterns = [
    path("payouts/orders", api_orders.PayoutOrdersApi.as_view(), name="payouts-api-orders"),
    path("payouts/orders/<str:order_no>", api_orders.PayoutOrderApi.as_view(), name="payouts-api-order"),
    path("payouts/batches", api_orders.PayoutBatchesApi.as_view(), name="payouts-api-batches"),
    path("payouts/batches/<int:batch_id>/confirm", api_orders.PayoutBatchConfirmApi.as_view(),
         name="payouts-api-batch-confirm"),
    path("payouts/batches/<int:batch_id>/progress", api_orders.PayoutBatchProgressApi.as_view(),
         name="payouts-api-batch-progress"),
]

enterprise_nav = [(62, "付款订单", "enterprise:payouts-orders"), (64, "批量付款", "enterprise:payouts-batches")]
