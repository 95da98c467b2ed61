"""The rollback decision, written plainly in Python with boto3: the same
calls as tandem's rollback function for an alarm state change. Read the
region's last release from the state table, decide, record the decision
once (a conditional put), act, record the outcome, tell the ops topic.

The state table is read and written through boto3's resource-level Table
API, with plain Python values (strings, int): boto3 serialises them into
the same DynamoDB requests (the same items, keys, attribute types and
conditions) and adds no AWS call, so the peer's reaction latency is that
of the same three table calls as before (Query, PutItem, UpdateItem)."""
import json
import os
import time

import boto3
from boto3.dynamodb.conditions import Attr, Key

REGION = os.environ["AWS_REGION"]
TABLE = os.environ["TANDEM_STATE_TABLE"]
TOPIC = os.environ["TANDEM_OPS_TOPIC_ARN"]
# One Table object built at init: making it does not call AWS (no
# DescribeTable until an attribute such as table_status is read, and none is).
table = boto3.resource("dynamodb", region_name=REGION).Table(TABLE)
ConditionalCheckFailed = table.meta.client.exceptions.ConditionalCheckFailedException
sns = boto3.client("sns", region_name=REGION)
codedeploy = boto3.client("codedeploy", region_name=REGION)


def last_release():
    # Query: the partition key equal to the string release#<region> (the
    # request names it #n0 = :v0), newest first, one item.
    out = table.query(
        KeyConditionExpression=Key("pk").eq(f"release#{REGION}"),
        ScanIndexForward=False,
        Limit=1,
        ConsistentRead=True,
    )
    return out["Items"][0] if out["Items"] else None


def decide(alarm, state, release):
    if state != "ALARM":
        return "Ignore", f"{alarm} is {state}"
    if release and release.get("state") == "in-progress" and "deployment_id" in release:
        return "StopDeployment", f"{alarm} fired during release {release['release_id']}"
    return "Notify", f"{alarm} fired with no release in flight"


def handler(event, _context):
    detail = event["detail"]
    alarm, state = detail["alarmName"], detail["state"]["value"]
    key = f"alarm#{alarm}#{state}#{detail['state']['timestamp']}"
    release = last_release()
    decision, reason = decide(alarm, state, release)
    sk = f"rollback#{key}"
    try:
        # PutItem, once: every attribute a string (S) but `at`, an int (N).
        table.put_item(
            Item={
                "pk": "audit", "sk": sk, "kind": "rollback", "key": key,
                "at": int(time.time()), "decision": decision, "reason": reason,
                "action": decision, "outcome": "decided", "region": REGION,
            },
            ConditionExpression=Attr("pk").not_exists(),
        )
    except ConditionalCheckFailed:
        return {"decision": "AlreadyHandled", "event": key}
    outcome = "nothing to act on"
    if decision == "StopDeployment":
        codedeploy.stop_deployment(deploymentId=release["deployment_id"], autoRollbackEnabled=True)
        outcome = "stopped the deployment"
    table.update_item(
        Key={"pk": "audit", "sk": sk},
        UpdateExpression="SET outcome = :o",
        ConditionExpression=Attr("pk").exists(),
        ExpressionAttributeValues={":o": outcome},
    )
    if decision != "Ignore":
        sns.publish(TopicArn=TOPIC, Subject=f"tandem rollback: {decision}", Message=json.dumps({"reason": reason, "outcome": outcome}))
    return {"decision": decision, "reason": reason, "outcome": outcome, "event": key}
