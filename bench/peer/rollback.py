"""The rollback decision, written plainly in Python with boto3: the same
calls as tandem's rollback function for an alarm state change. Read the
region's last release from the state table, decide, record the decision
once (a conditional put), act, record the outcome, tell the ops topic."""
import json
import os
import time

import boto3
from botocore.exceptions import ClientError

REGION = os.environ["AWS_REGION"]
TABLE = os.environ["TANDEM_STATE_TABLE"]
TOPIC = os.environ["TANDEM_OPS_TOPIC_ARN"]
dynamodb = boto3.client("dynamodb", region_name=REGION)
sns = boto3.client("sns", region_name=REGION)
codedeploy = boto3.client("codedeploy", region_name=REGION)


def last_release():
    out = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"release#{REGION}"}},
        ScanIndexForward=False,
        Limit=1,
        ConsistentRead=True,
    )
    return out["Items"][0] if out["Items"] else None


def decide(alarm, state, release):
    if state != "ALARM":
        return "Ignore", f"{alarm} is {state}"
    if release and release.get("state", {}).get("S") == "in_flight" and "deployment_id" in release:
        return "StopDeployment", f"{alarm} fired during release {release['release_id']['S']}"
    return "Notify", f"{alarm} fired with no release in flight"


def handler(event, _context):
    detail = event["detail"]
    alarm, state = detail["alarmName"], detail["state"]["value"]
    key = f"alarm#{alarm}#{state}#{detail['state']['timestamp']}"
    release = last_release()
    decision, reason = decide(alarm, state, release)
    sk = f"rollback#{key}"
    try:
        dynamodb.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": "audit"}, "sk": {"S": sk}, "kind": {"S": "rollback"}, "key": {"S": key},
                "at": {"N": str(int(time.time()))}, "decision": {"S": decision}, "reason": {"S": reason},
                "action": {"S": decision}, "outcome": {"S": "decided"}, "region": {"S": REGION},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as e:
        if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return {"decision": "AlreadyHandled", "event": key}
        raise
    outcome = "nothing to act on"
    if decision == "StopDeployment":
        codedeploy.stop_deployment(deploymentId=release["deployment_id"]["S"], autoRollbackEnabled=True)
        outcome = "stopped the deployment"
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "audit"}, "sk": {"S": sk}},
        UpdateExpression="SET outcome = :o",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":o": {"S": outcome}},
    )
    if decision != "Ignore":
        sns.publish(TopicArn=TOPIC, Subject=f"tandem rollback: {decision}", Message=json.dumps({"reason": reason, "outcome": outcome}))
    return {"decision": decision, "reason": reason, "outcome": outcome, "event": key}
