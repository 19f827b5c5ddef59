"""Drives the rakguard emulator with the official Stripe Python SDK, unchanged but for the base URL.

Run by tests/emulator/sdk.rs, which starts the emulator and passes, in the environment:
EMULATOR_URL, KEY_FULL (a restricted key holding what the flow needs), KEY_NO_PRODUCT_WRITE (the
same without Products: Write) and KEY_REVOKED (a key revoked before this script runs).
Prints one line per check and exits non-zero on the first failure.
"""

import json
import os
import sys
import urllib.request

import stripe

BASE = os.environ["EMULATOR_URL"]


def admin(path, body):
    request = urllib.request.Request(
        BASE + "/_emulator/v1" + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def client(key, retries=0):
    return stripe.StripeClient(key, base_addresses={"api": BASE}, max_network_retries=retries)


def check(name, condition, detail=""):
    if not condition:
        print(f"FAIL {name}: {detail}")
        sys.exit(1)
    print(f"ok   {name}")


def flow():
    full = client(os.environ["KEY_FULL"])
    customer = full.v1.customers.create(
        params={
            "email": "jenny@example.com",
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    check("customer created", customer.id.startswith("cus_") and customer.email == "jenny@example.com")
    product = full.v1.products.create(params={"name": "Gold plan"})
    check("product created", product.id.startswith("prod_"))
    price = full.v1.prices.create(
        params={"product": product.id, "unit_amount": 2000, "currency": "usd", "recurring": {"interval": "month"}}
    )
    check("price created", price.id.startswith("price_") and price.recurring.interval == "month")
    subscription = full.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}], "default_payment_method": "pm_card_visa"}
    )
    check("subscription active", subscription.status == "active", subscription.status)
    invoice = full.v1.invoices.retrieve(subscription.latest_invoice)
    check("first invoice paid", invoice.status == "paid" and invoice.amount_paid == 2000, invoice.status)
    payment_intent = full.v1.payment_intents.retrieve(invoice.payment_intent)
    check("invoice payment succeeded", payment_intent.status == "succeeded", payment_intent.status)
    refund = full.v1.refunds.create(params={"payment_intent": payment_intent.id})
    check("refund succeeded", refund.status == "succeeded" and refund.amount == 2000, refund.status)
    charge = full.v1.charges.retrieve(payment_intent.latest_charge)
    check("charge refunded", charge.refunded and charge.amount_refunded == 2000)


def permission_error():
    narrow = client(os.environ["KEY_NO_PRODUCT_WRITE"])
    try:
        narrow.v1.products.create(params={"name": "Not allowed"})
    except stripe.PermissionError as error:
        check("missing permission raises PermissionError", error.http_status == 403)
        check("it names the permission", "product_write" in str(error.user_message), error.user_message)
        # stripe-python does not copy `code` onto PermissionError; the body carries it.
        code = (error.json_body or {}).get("error", {}).get("code")
        check("it carries Stripe's code", code == "more_permissions_required", code)
    else:
        check("missing permission raises PermissionError", False, "no error")


def authentication_error():
    try:
        client(os.environ["KEY_REVOKED"]).v1.customers.list()
    except stripe.AuthenticationError as error:
        check("revoked key raises AuthenticationError", error.http_status == 401)
    else:
        check("revoked key raises AuthenticationError", False, "no error")


def rate_limit_error():
    admin("/faults", {"rate_limit_per_second": 1})
    full = client(os.environ["KEY_FULL"])
    try:
        for _ in range(5):
            full.v1.customers.list(params={"limit": 1})
    except stripe.RateLimitError as error:
        check("rate limit raises RateLimitError", error.http_status == 429)
    else:
        check("rate limit raises RateLimitError", False, "five requests at once were all allowed")
    finally:
        admin("/faults", {"rate_limit_per_second": 1000000})


def retries_create_nothing_twice():
    # Half the connections drop after the emulator has done the work; the SDK retries them with
    # the idempotency key it adds to every POST, and Stripe (and the emulator) replay the result.
    admin("/faults", {"reset_rate": 0.5, "seed": 11})
    full = client(os.environ["KEY_FULL"], retries=10)
    created = [full.v1.customers.create(params={"metadata": {"run": "retries"}}).id for _ in range(10)]
    admin("/faults", {"reset_rate": 0.0})
    listed = [c.id for c in client(os.environ["KEY_FULL"]).v1.customers.list(params={"limit": 100}).data
              if c.metadata.to_dict().get("run") == "retries"]
    with urllib.request.urlopen(BASE + "/_emulator/v1/requests") as response:
        log = json.load(response)
    entries = log["data"] if isinstance(log, dict) else log
    posts = [e for e in entries if e["method"] == "POST" and e["path"] == "/v1/customers"]
    check("ten creations under dropped connections", len(set(created)) == 10, created)
    check("the SDK retried dropped connections", len(posts) > 11, f"{len(posts)} POSTs for 11 creations")
    check("nothing created twice", sorted(listed) == sorted(created), f"{len(listed)} stored")


if __name__ == "__main__":
    print(f"stripe-python {stripe.VERSION} against {BASE}")
    flow()
    permission_error()
    authentication_error()
    rate_limit_error()
    retries_create_nothing_twice()
    print("all checks passed")
