"""Custom::CrossRegionOutputs as a CDK or SAM project would write it:
crhelper for the CloudFormation protocol, boto3 for the call. The same
work as tandem's topology function: read the named outputs of a stack in
another region and return them as the resource's attributes."""
import boto3
from crhelper import CfnResource

helper = CfnResource(json_logging=False, log_level="INFO", boto_level="CRITICAL", sleep_on_delete=0)
session = boto3.session.Session()


@helper.create
@helper.update
def read_outputs(event, _context):
    props = event["ResourceProperties"]
    region, stack_name, keys = props["Region"], props["StackName"], props["OutputKeys"]
    cfn = session.client("cloudformation", region_name=region)
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = [k for k in keys if k not in outputs]
    if missing:
        raise ValueError(f"stack {stack_name} in {region} has no output {', '.join(missing)}")
    helper.Data.update({k: outputs[k] for k in keys})
    return f"{region}/{stack_name}"


@helper.delete
def delete(_event, _context):
    return None


def handler(event, context):
    helper(event, context)
