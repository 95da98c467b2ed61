"""What the functions have logged so far, checked for secrets, in one process.

Reads every line the functions wrote: each function log group in both
regions (CloudWatch Logs, where the custom resources' invocations log) and
the Lambda output the local AWS copies into its own log. Prints one JSON
object: how many lines were read, how many hold a custom-resource
ResponseURL (a presigned URL: whoever has it can answer for the stack),
for each region whose database secret exists now, how many hold its
password, and for each region whose chat webhook secret exists now, how
many hold its URL (the URL is the webhook's credential). `no_secrets_in_logs` in tests/e2e/lib.sh asserts on it.

Run with .venv/bin/python (botocore comes with the pinned awscli).
"""

import json
import os
import re
import sys

import botocore.session

REGIONS = ("us-east-1", "us-east-2")
PREFIX = "/aws/lambda/tandem-local-"
RESPONSE_URL = re.compile(r"cfn-response/|X-Amz-Signature=")


def client(session, service, region):
    return session.create_client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def function_lines(session):
    for region in REGIONS:
        logs = client(session, "logs", region)
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=PREFIX):
            for group in page.get("logGroups", []):
                events = logs.get_paginator("filter_log_events").paginate(logGroupName=group["logGroupName"])
                for events_page in events:
                    for event in events_page.get("events", []):
                        yield event.get("message", "")


def ministack_lines(path):
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as log:
            yield from log


def password(session, region):
    try:
        secret = client(session, "secretsmanager", region).get_secret_value(SecretId="tandem-local/db")
        return json.loads(secret["SecretString"]).get("password") or None
    except Exception:  # no secret there now: nothing to look for
        return None


def webhook(session, region):
    try:
        secret = client(session, "secretsmanager", region).get_secret_value(SecretId="tandem-local/ops-webhook")
        return secret["SecretString"].strip() or None
    except Exception:  # no webhook configured now: nothing to look for
        return None


def main():
    session = botocore.session.get_session()
    lines = [
        line
        for source in (function_lines(session), ministack_lines(sys.argv[1]))
        for line in source
        if line.startswith('{"timestamp":')
    ]
    passwords = {region: password(session, region) for region in REGIONS}
    webhooks = {region: webhook(session, region) for region in REGIONS}
    print(
        json.dumps(
            {
                "lines": len(lines),
                "response_urls": sum(1 for line in lines if RESPONSE_URL.search(line)),
                "passwords": {r: sum(1 for line in lines if p in line) for r, p in passwords.items() if p},
                "webhooks": {r: sum(1 for line in lines if u in line) for r, u in webhooks.items() if u},
            }
        )
    )


if __name__ == "__main__":
    main()
