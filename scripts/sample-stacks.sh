#!/usr/bin/env bash
# Ensures the stack that the sample events in events/ read exists on the
# local AWS: tandem-sample-source in us-east-2. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/local-aws.sh env)"
if ! aws cloudformation describe-stacks --region us-east-2 --stack-name tandem-sample-source >/dev/null 2>&1; then
  aws cloudformation create-stack --region us-east-2 --stack-name tandem-sample-source \
    --template-body file://tests/fixtures/source-stack.yaml --parameters ParameterKey=Marker,ParameterValue=sample >/dev/null
  aws cloudformation wait stack-create-complete --region us-east-2 --stack-name tandem-sample-source
fi
echo "sample stacks: tandem-sample-source (us-east-2) ready"
