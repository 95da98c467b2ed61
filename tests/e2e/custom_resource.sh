#!/usr/bin/env bash
# End to end on the local AWS: Custom::CrossRegionOutputs as a user meets it.
#  1. `make invoke` (cargo lambda watch + invoke) on the samples in events/;
#  2. a real stack that uses the function: Create -> outputs -> Update -> Delete;
#  3. a stack whose custom resource fails: ROLLBACK_COMPLETE with the reason.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh

echo "e2e: Custom::CrossRegionOutputs"

# 1. Local invocation of the sample events, on a freshly started watch so that
#    it runs the code as it is now.
scripts/local-aws.sh stop-watch >/dev/null
out=$(make --no-print-directory invoke FN=topology EVENT=events/cross-region-outputs-create.json 2>/dev/null | tail -n 2)
check "invoke create answers SUCCESS" contains "$out" '"Status":"SUCCESS"'
check "invoke create returns the us-east-2 stack's outputs" contains "$out" '"VpcId":"vpc-0123456789abcdef0"'
out=$(make --no-print-directory invoke FN=topology EVENT=events/cross-region-outputs-missing-stack.json 2>/dev/null | tail -n 2)
check "invoke on a missing stack answers FAILED naming it" contains "$out" 'tandem-no-such-stack\" in us-east-2 does not exist'
out=$(make --no-print-directory invoke FN=topology EVENT=events/cross-region-outputs-bad-property.json 2>/dev/null | tail -n 2)
# shellcheck disable=SC2016 # the backticks are literal text in the message
check "invoke with a bad property answers FAILED naming it" contains "$out" 'property `Region`'

# 2. A real stack on the local AWS.
key=$(package_function topology)
SOURCE=tandem-e2e-source
READER=tandem-e2e-reader
BROKEN=tandem-e2e-broken
for s in "us-east-1 $READER" "us-east-1 $BROKEN" "us-east-2 $SOURCE"; do
  aws cloudformation delete-stack --region "${s% *}" --stack-name "${s#* }" 2>/dev/null; wait_stack "${s% *}" "${s#* }" >/dev/null
done

deploy_source() {
  local verb=$1 marker=$2
  aws cloudformation "$verb-stack" --region us-east-2 --stack-name $SOURCE \
    --template-body file://tests/fixtures/source-stack.yaml \
    --parameters "ParameterKey=Marker,ParameterValue=$marker" >/dev/null
  wait_stack us-east-2 $SOURCE
}
# reader VERB STACK SOURCE_STACK OUTPUT_KEYS: creates or updates a reader stack.
reader() {
  local params
  params=$(jq -cn --arg b "$ARTIFACTS" --arg k "$key" --arg s "$3" --arg o "$4" '[
    {ParameterKey: "ArtifactBucket", ParameterValue: $b}, {ParameterKey: "CodeKey", ParameterValue: $k},
    {ParameterKey: "SourceRegion", ParameterValue: "us-east-2"}, {ParameterKey: "SourceStack", ParameterValue: $s},
    {ParameterKey: "OutputKeys", ParameterValue: $o}]')
  aws cloudformation "$1-stack" --region us-east-1 --stack-name "$2" --capabilities CAPABILITY_NAMED_IAM \
    --template-body file://tests/fixtures/reader-stack.yaml --parameters "$params" >/dev/null
}

check "source stack created in us-east-2" eq "$(deploy_source create one)" CREATE_COMPLETE

reader create $READER $SOURCE VpcId,Marker
check "reader stack created in us-east-1" eq "$(wait_stack us-east-1 $READER)" CREATE_COMPLETE
check "the other region's output is visible in the stack's outputs" eq "$(stack_output us-east-1 $READER ReadVpcId)" vpc-0123456789abcdef0
check "the parameter-driven output is read too" eq "$(stack_output us-east-1 $READER ReadMarker)" one

check "source stack updated" eq "$(deploy_source update two)" UPDATE_COMPLETE
reader update $READER $SOURCE VpcId,Marker,DbArn
check "reader stack updated" eq "$(wait_stack us-east-1 $READER)" UPDATE_COMPLETE
check "Update re-reads the outputs" eq "$(stack_output us-east-1 $READER ReadMarker)" two

aws cloudformation delete-stack --region us-east-1 --stack-name $READER
check "reader stack deleted" eq "$(wait_stack us-east-1 $READER)" NONE
logs=$(aws logs filter-log-events --region us-east-1 --log-group-name "/aws/lambda/$READER-topology" \
  --query 'events[].message' --output text 2>/dev/null)
check "the function answered the Delete with SUCCESS" contains "$logs" '"request_type":"Delete","status":"Success"'
check "the function logged no ResponseURL" eq "$(grep -c cfn-response <<<"$logs")" 0

# 3. A custom resource that fails: the stack rolls back and shows why.
reader create $BROKEN tandem-e2e-no-such-stack VpcId
check "a failing custom resource rolls the stack back" eq "$(wait_stack us-east-1 $BROKEN)" ROLLBACK_COMPLETE
check "the stack events show the handler's reason" contains "$(failure_reasons us-east-1 $BROKEN)" \
  'stack "tandem-e2e-no-such-stack" in us-east-2 does not exist'

aws cloudformation delete-stack --region us-east-1 --stack-name $BROKEN
aws cloudformation delete-stack --region us-east-2 --stack-name $SOURCE
check "clean-up leaves no test stack" eq "$(wait_stack us-east-1 $BROKEN) $(wait_stack us-east-2 $SOURCE)" "NONE NONE"

summary
