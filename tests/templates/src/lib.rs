//! Helpers for asserting on CloudFormation templates, in the manner of CDK's
//! `assertions` module (`Template.from_stack(...).resource_count_is(...)`).
//!
//! [`Template`] loads a YAML template written with CloudFormation's short-form
//! tags (`!Ref`, `!Sub`, `!GetAtt`, `!If`, ...) into plain JSON, in the long
//! form that CloudFormation itself uses (`{"Ref": ...}`, `{"Fn::Sub": ...}`),
//! so tests compare against `serde_json::json!` literals. It also evaluates
//! the `Conditions` section for chosen parameter values ([`Template::evaluate_conditions`])
//! and resolves `Fn::If` with the result ([`Template::resolve`]), so a test can
//! ask what a template creates in one environment.
//!
//! Every assertion method panics with a message that shows what the template
//! holds instead, as CDK's do.

#![warn(missing_docs)]
#![deny(missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

mod pattern;

pub use pattern::pattern_matches;

/// Parameter values for one evaluation of a template's conditions: parameter
/// name to value, as CloudFormation sees them (always strings).
pub type Params = BTreeMap<String, String>;

/// The truth value of every condition in a template's `Conditions` section.
pub type Conditions = BTreeMap<String, bool>;

/// Why a template could not be loaded or a condition not evaluated.
#[derive(Debug)]
pub struct TemplateError(String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

fn err<T>(message: impl Into<String>) -> Result<T, TemplateError> {
    Err(TemplateError(message.into()))
}

/// The short-form tags CloudFormation's YAML accepts, other than `!Ref`,
/// `!GetAtt` and `!Condition`; each `!Name x` becomes `{"Fn::Name": x}`.
const FN_TAGS: &[&str] = &[
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
];

/// Pseudo parameters, with the values [`Template::evaluate_conditions`] gives
/// them when a test does not.
const PSEUDO_PARAMETERS: &[(&str, &str)] = &[
    ("AWS::AccountId", "123456789012"),
    ("AWS::NotificationARNs", ""),
    ("AWS::Partition", "aws"),
    ("AWS::Region", "us-east-1"),
    (
        "AWS::StackId",
        "arn:aws:cloudformation:us-east-1:123456789012:stack/test/0",
    ),
    ("AWS::StackName", "test"),
    ("AWS::URLSuffix", "amazonaws.com"),
];

/// The root of the repository (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Converts a YAML value, with CloudFormation short-form tags, into the JSON
/// that CloudFormation works on: `!Ref X` -> `{"Ref": "X"}`, `!GetAtt A.B` ->
/// `{"Fn::GetAtt": ["A", "B"]}`, `!Condition X` -> `{"Condition": "X"}`, and
/// any other function `!Name v` -> `{"Fn::Name": v}`. Unknown tags are errors,
/// so a typo such as `!Subb` cannot pass unnoticed.
pub fn yaml_to_json(value: &serde_yaml::Value) -> Result<Value, TemplateError> {
    use serde_yaml::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| TemplateError(format!("number {n} has no JSON form")))?
            }
        }
        Y::String(s) => Value::String(s.clone()),
        Y::Sequence(items) => Value::Array(items.iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Y::Mapping(mapping) => {
            let mut object = Map::new();
            for (k, v) in mapping {
                let key = match k {
                    Y::String(s) => s.clone(),
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return err(format!("unsupported mapping key {other:?}")),
                };
                object.insert(key, yaml_to_json(v)?);
            }
            Value::Object(object)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(&tagged.value)?;
            match name {
                "Ref" => single("Ref", inner),
                "Condition" => single("Condition", inner),
                "GetAtt" => match inner {
                    Value::String(s) => match s.split_once('.') {
                        Some((resource, attribute)) => single("Fn::GetAtt", serde_json::json!([resource, attribute])),
                        None => return err(format!("!GetAtt {s}: expected Resource.Attribute")),
                    },
                    list @ Value::Array(_) => single("Fn::GetAtt", list),
                    other => return err(format!("!GetAtt {other}: expected a string or a list")),
                },
                _ if FN_TAGS.contains(&name) => single(&format!("Fn::{name}"), inner),
                _ => return err(format!("unknown tag {tag}")),
            }
        }
    })
}

fn single(key: &str, value: Value) -> Value {
    let mut object = Map::new();
    object.insert(key.to_string(), value);
    Value::Object(object)
}

/// Deep partial match, as CDK's `Match.objectLike`: every key of an
/// `expected` object must be in `actual` and match there (other keys of
/// `actual` are ignored); arrays must have the same length and match element
/// by element (each element partially); numbers compare by value (7 == 7.0);
/// anything else must be equal.
pub fn matches_partial(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, ev)| a.get(k).is_some_and(|av| matches_partial(av, ev))),
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(av, ev)| matches_partial(av, ev))
        }
        (Value::Number(a), Value::Number(e)) => a.as_f64() == e.as_f64(),
        (a, e) => a == e,
    }
}

/// A CloudFormation template, parsed into JSON (see [`yaml_to_json`]).
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    json: Value,
}

impl Template {
    /// Loads `cfn/<file>` from the repository (or from `$TANDEM_CFN_DIR`
    /// when set, to run the assertions on a modified copy), panicking with
    /// the reason if it cannot be read or parsed (this is for tests).
    pub fn load(file: &str) -> Template {
        let dir = std::env::var_os("TANDEM_CFN_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("cfn"));
        let path = dir.join(file);
        Template::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Reads and parses a template file.
    pub fn from_path(path: &Path) -> Result<Template, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|e| TemplateError(format!("read: {e}")))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Template::from_yaml_str(&name, &text)
    }

    /// Parses template text; `name` only labels panic messages.
    pub fn from_yaml_str(name: &str, text: &str) -> Result<Template, TemplateError> {
        let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| TemplateError(format!("yaml: {e}")))?;
        let json = yaml_to_json(&yaml)?;
        if !json.get("Resources").is_some_and(Value::is_object) {
            return err("the template has no Resources map");
        }
        Ok(Template {
            name: name.to_string(),
            json,
        })
    }

    /// The whole template as JSON.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The template's name (its file name), for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn section(&self, section: &str) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.json
            .get(section)
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    /// The `Resources` section: logical id to resource.
    pub fn resources(&self) -> &Map<String, Value> {
        self.section("Resources")
    }

    /// One resource by logical id; panics if there is none.
    pub fn resource(&self, logical_id: &str) -> &Value {
        self.resources()
            .get(logical_id)
            .unwrap_or_else(|| panic!("{}: no resource {logical_id}", self.name))
    }

    /// The `Properties` of one resource (`{}` when it has none); panics if
    /// there is no such resource.
    pub fn properties(&self, logical_id: &str) -> &Value {
        static EMPTY: Value = Value::Null;
        let resource = self.resource(logical_id);
        resource.get("Properties").unwrap_or(&EMPTY)
    }

    /// The type of one resource (`AWS::EC2::VPC`); panics if there is no such resource.
    pub fn type_of(&self, logical_id: &str) -> &str {
        self.resource(logical_id)
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{}: resource {logical_id} has no Type", self.name))
    }

    /// Every resource of one type, as (logical id, resource), in logical-id order.
    pub fn resources_of(&self, resource_type: &str) -> Vec<(&str, &Value)> {
        self.resources()
            .iter()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(resource_type))
            .map(|(id, r)| (id.as_str(), r))
            .collect()
    }

    /// The resources of one type whose `Properties` match `partial` (see
    /// [`matches_partial`]), as (logical id, resource).
    pub fn find_resources(&self, resource_type: &str, partial: &Value) -> Vec<(&str, &Value)> {
        let empty = Value::Object(Map::new());
        self.resources_of(resource_type)
            .into_iter()
            .filter(|(_, r)| matches_partial(r.get("Properties").unwrap_or(&empty), partial))
            .collect()
    }

    /// Asserts that the template has exactly `count` resources of `resource_type`.
    pub fn resource_count_is(&self, resource_type: &str, count: usize) {
        let found = self.resources_of(resource_type);
        let ids: Vec<&str> = found.iter().map(|(id, _)| *id).collect();
        assert_eq!(
            found.len(),
            count,
            "{}: expected {count} {resource_type}, found {}: {ids:?}",
            self.name,
            found.len()
        );
    }

    /// Asserts that at least one resource of `resource_type` has `Properties`
    /// matching `partial`, and returns the logical ids of those that do.
    pub fn has_resource_properties(&self, resource_type: &str, partial: &Value) -> Vec<String> {
        let found = self.find_resources(resource_type, partial);
        if found.is_empty() {
            let candidates: Vec<String> = self
                .resources_of(resource_type)
                .iter()
                .map(|(id, r)| format!("  {id}: {}", r.get("Properties").unwrap_or(&Value::Null)))
                .collect();
            panic!(
                "{}: no {resource_type} has properties matching\n  {partial}\ncandidates:\n{}",
                self.name,
                if candidates.is_empty() {
                    "  (none)".to_string()
                } else {
                    candidates.join("\n")
                }
            );
        }
        found.into_iter().map(|(id, _)| id.to_string()).collect()
    }

    /// The `Condition` a resource is created under, if any; panics if there
    /// is no such resource.
    pub fn condition_of(&self, logical_id: &str) -> Option<&str> {
        self.resource(logical_id).get("Condition").and_then(Value::as_str)
    }

    /// One entry of `Outputs` (with `Value`, `Export`, `Condition`); panics if there is none.
    pub fn output(&self, name: &str) -> &Value {
        self.section("Outputs")
            .get(name)
            .unwrap_or_else(|| panic!("{}: no output {name}", self.name))
    }

    /// The `Outputs` section.
    pub fn outputs(&self) -> &Map<String, Value> {
        self.section("Outputs")
    }

    /// One entry of `Parameters`; panics if there is none.
    pub fn parameter(&self, name: &str) -> &Value {
        self.section("Parameters")
            .get(name)
            .unwrap_or_else(|| panic!("{}: no parameter {name}", self.name))
    }

    /// The `Parameters` section.
    pub fn parameters(&self) -> &Map<String, Value> {
        self.section("Parameters")
    }

    /// The export names of every output that has one (in long form, such
    /// as `{"Fn::Sub": "tandem-${Env}-key-arn"}`), by output name.
    pub fn exports(&self) -> BTreeMap<String, Value> {
        self.outputs()
            .iter()
            .filter_map(|(name, o)| Some((name.clone(), o.get("Export")?.get("Name")?.clone())))
            .collect()
    }

    /// Evaluates every condition in `Conditions` for the given parameter
    /// values. Parameters not given take their `Default`; pseudo parameters
    /// take fixed test values (us-east-1, ...). Supports `Fn::Equals`,
    /// `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition` and `Ref`, which is all a
    /// `Conditions` section may use.
    pub fn evaluate_conditions(&self, params: &Params) -> Result<Conditions, TemplateError> {
        let mut values = Params::new();
        for (name, p) in self.parameters() {
            if let Some(v) = params.get(name) {
                values.insert(name.clone(), v.clone());
            } else if let Some(d) = p.get("Default") {
                values.insert(name.clone(), scalar_string(d).unwrap_or_default());
            }
        }
        for (name, v) in params {
            if !self.parameters().contains_key(name) && !name.starts_with("AWS::") {
                return err(format!("{}: no parameter {name}", self.name));
            }
            values.insert(name.clone(), v.clone());
        }
        for (name, v) in PSEUDO_PARAMETERS {
            values.entry(name.to_string()).or_insert_with(|| v.to_string());
        }
        let definitions = self.section("Conditions");
        let mut out = Conditions::new();
        for name in definitions.keys() {
            let v = eval_condition(definitions, &values, name, 0)?;
            out.insert(name.clone(), v);
        }
        Ok(out)
    }

    /// [`Template::evaluate_conditions`] for `[(name, value), ...]`, panicking on an error.
    pub fn conditions_for(&self, params: &[(&str, &str)]) -> Conditions {
        let params: Params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.evaluate_conditions(&params)
            .unwrap_or_else(|e| panic!("{}: conditions for {params:?}: {e}", self.name))
    }

    /// Scenarios covering the parameters that the `Conditions` section
    /// reads: each parameter takes its `AllowedValues`, or else its `Default`
    /// plus one value that differs from it ("" or "x"). `fixed` pins some
    /// parameters to one value.
    ///
    /// The parameters that decide which resources and outputs exist (a
    /// condition that is some resource's or output's `Condition`, or that
    /// another condition reads) take every combination. A parameter that is
    /// read only by conditions that choose between the branches of `Fn::If`
    /// (a "leaf", such as whether an optional variable is set) takes each of
    /// its values with every combination of the others, but not with every
    /// value of every other leaf: one `Fn::If` decides on one condition, so
    /// that is what a reference or value check needs, and the count stays
    /// that of the deciding parameters times the largest leaf's values.
    pub fn condition_scenarios(&self, fixed: &[(&str, &str)]) -> Vec<Params> {
        let definitions = self.section("Conditions");
        let mut read = BTreeSet::new();
        for definition in definitions.values() {
            collect_refs(definition, &mut read);
        }
        // Conditions that decide what exists, or that other conditions read.
        let mut deciding: BTreeSet<String> = BTreeSet::new();
        for section in ["Resources", "Outputs"] {
            for item in self.section(section).values() {
                if let Some(c) = item.get("Condition").and_then(Value::as_str) {
                    deciding.insert(c.to_string());
                }
            }
        }
        for definition in definitions.values() {
            collect_condition_names(definition, &mut deciding);
        }
        let mut leaf_params = BTreeSet::new();
        let mut deciding_params = BTreeSet::new();
        for (name, definition) in definitions {
            let mut params = BTreeSet::new();
            collect_refs(definition, &mut params);
            if deciding.contains(name) {
                deciding_params.extend(params);
            } else {
                leaf_params.extend(params);
            }
        }
        let candidates = |name: &String| -> Vec<String> {
            if let Some((_, v)) = fixed.iter().find(|(k, _)| k == name) {
                return vec![v.to_string()];
            }
            let p = self.parameter(name);
            match p.get("AllowedValues").and_then(Value::as_array) {
                Some(allowed) => allowed.iter().filter_map(scalar_string).collect(),
                None => {
                    let default = p.get("Default").and_then(scalar_string).unwrap_or_default();
                    let other = if default.is_empty() {
                        "x".to_string()
                    } else {
                        String::new()
                    };
                    vec![default, other]
                }
            }
        };
        let params_read = read.iter().filter(|n| self.parameters().contains_key(*n));
        let (products, leaves): (Vec<&String>, Vec<&String>) =
            params_read.partition(|n| deciding_params.contains(*n) || !leaf_params.contains(*n));
        let mut scenarios = vec![Params::new()];
        for name in products {
            let values = candidates(name);
            scenarios = scenarios
                .into_iter()
                .flat_map(|s| {
                    values.iter().map(move |c| {
                        let mut s = s.clone();
                        s.insert(name.clone(), c.clone());
                        s
                    })
                })
                .collect();
        }
        let leaves: Vec<(&String, Vec<String>)> = leaves.into_iter().map(|n| (n, candidates(n))).collect();
        let rounds = leaves.iter().map(|(_, v)| v.len()).max().unwrap_or(1);
        (0..rounds)
            .flat_map(|round| {
                let leaves = &leaves;
                scenarios.iter().map(move |s| {
                    let mut s = s.clone();
                    for (name, values) in leaves {
                        s.insert((*name).clone(), values[round % values.len()].clone());
                    }
                    s
                })
            })
            .collect()
    }

    /// The logical ids of the resources that differ between this template
    /// and `other` (added, removed or changed): what a deploy of one over
    /// the other would touch.
    pub fn changed_resources<'a>(&'a self, other: &'a Template) -> BTreeSet<&'a str> {
        let ids: BTreeSet<&String> = self.resources().keys().chain(other.resources().keys()).collect();
        ids.into_iter()
            .filter(|id| self.resources().get(*id) != other.resources().get(*id))
            .map(|id| id.as_str())
            .collect()
    }

    /// Whether a resource exists under the given condition values (true when
    /// it has no `Condition`).
    pub fn is_created(&self, logical_id: &str, conditions: &Conditions) -> bool {
        match self.condition_of(logical_id) {
            None => true,
            Some(c) => *conditions
                .get(c)
                .unwrap_or_else(|| panic!("{}: {logical_id} names unknown condition {c}", self.name)),
        }
    }

    /// The template as CloudFormation would create it with the given
    /// parameter values: only the resources and outputs whose `Condition`
    /// holds, with every `Fn::If` resolved (see [`Template::resolve`]).
    /// Panics if the conditions cannot be evaluated.
    pub fn resolved(&self, params: &[(&str, &str)]) -> Template {
        let c = self.conditions_for(params);
        let mut json = self.json.clone();
        let keep = |section: &Map<String, Value>| -> Map<String, Value> {
            section
                .iter()
                .filter(|(_, v)| {
                    v.get("Condition")
                        .and_then(Value::as_str)
                        .is_none_or(|cond| c.get(cond) == Some(&true))
                })
                .map(|(k, v)| (k.clone(), self.resolve(v, &c)))
                .collect()
        };
        json["Resources"] = Value::Object(keep(self.resources()));
        if json.get("Outputs").is_some() {
            json["Outputs"] = Value::Object(keep(self.outputs()));
        }
        Template {
            name: format!("{} with {params:?}", self.name),
            json,
        }
    }

    /// `value` with every `Fn::If` replaced by the branch the conditions
    /// choose, and every `{"Ref": "AWS::NoValue"}` removed from the objects
    /// and arrays that hold it.
    pub fn resolve(&self, value: &Value, conditions: &Conditions) -> Value {
        resolve(value, conditions).unwrap_or(Value::Null)
    }
}

/// The property that names a resource, for each resource type tandem names
/// (a resource of another type, or one that leaves the property out, gets
/// a name that CloudFormation generates from the stack's name).
pub const NAME_PROPERTIES: &[(&str, &str)] = &[
    ("AWS::ApplicationAutoScaling::ScalingPolicy", "PolicyName"),
    ("AWS::CloudWatch::Alarm", "AlarmName"),
    ("AWS::CloudWatch::Dashboard", "DashboardName"),
    ("AWS::CodeDeploy::Application", "ApplicationName"),
    ("AWS::CodeDeploy::DeploymentGroup", "DeploymentGroupName"),
    ("AWS::DynamoDB::Table", "TableName"),
    ("AWS::EC2::SecurityGroup", "GroupName"),
    ("AWS::ECR::Repository", "RepositoryName"),
    ("AWS::ECS::Cluster", "ClusterName"),
    ("AWS::ECS::Service", "ServiceName"),
    ("AWS::ECS::TaskDefinition", "Family"),
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "Name"),
    ("AWS::ElasticLoadBalancingV2::TargetGroup", "Name"),
    ("AWS::Events::Rule", "Name"),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::KMS::Alias", "AliasName"),
    ("AWS::Lambda::Function", "FunctionName"),
    ("AWS::Logs::LogGroup", "LogGroupName"),
    ("AWS::RDS::DBInstance", "DBInstanceIdentifier"),
    ("AWS::RDS::DBSubnetGroup", "DBSubnetGroupName"),
    ("AWS::S3::Bucket", "BucketName"),
    ("AWS::Scheduler::Schedule", "Name"),
    ("AWS::SecretsManager::Secret", "Name"),
    ("AWS::SNS::Topic", "TopicName"),
    ("AWS::SQS::Queue", "QueueName"),
    ("AWS::SSM::Parameter", "Name"),
    ("AWS::StepFunctions::StateMachine", "StateMachineName"),
    ("AWS::WAFv2::WebACL", "Name"),
];

/// Whether a name expression includes the parameter `param`: a `Fn::Sub`
/// whose string has `${param}`, a `Ref` to it, or a `Fn::Join` with a part
/// that does. A literal string never does.
pub fn name_carries(name: &Value, param: &str) -> bool {
    let placeholder = format!("${{{param}}}");
    match name.as_object().filter(|o| o.len() == 1).and_then(|o| o.iter().next()) {
        Some((k, Value::String(s))) if k == "Fn::Sub" => s.contains(&placeholder),
        Some((k, Value::Array(a))) if k == "Fn::Sub" => a
            .first()
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains(&placeholder)),
        Some((k, v)) if k == "Ref" => v == param,
        Some((k, v)) if k == "Fn::Join" => v
            .get(1)
            .and_then(Value::as_array)
            .is_some_and(|parts| parts.iter().any(|p| name_carries(p, param))),
        _ => false,
    }
}

impl Template {
    /// Every resource that sets its name property (see [`NAME_PROPERTIES`]),
    /// as (logical id, property, name expression).
    pub fn named_resources(&self) -> Vec<(&str, &str, &Value)> {
        self.resources()
            .iter()
            .filter_map(|(id, r)| {
                let ty = r.get("Type")?.as_str()?;
                let (_, prop) = NAME_PROPERTIES.iter().find(|(t, _)| *t == ty)?;
                Some((id.as_str(), *prop, r.get("Properties")?.get(*prop)?))
            })
            .collect()
    }

    /// The argument of every `Fn::ImportValue` in the template, serialized
    /// as JSON text (`{"Fn::Sub":"tandem-${Env}-key-arn"}`), to compare with
    /// another template's [`Template::exports`].
    pub fn imports(&self) -> BTreeSet<String> {
        fn walk(v: &Value, out: &mut BTreeSet<String>) {
            match v {
                Value::Object(o) => o.iter().for_each(|(k, v)| {
                    if k == "Fn::ImportValue" {
                        out.insert(v.to_string());
                    } else {
                        walk(v, out)
                    }
                }),
                Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        let mut out = BTreeSet::new();
        walk(&self.json, &mut out);
        out
    }

    /// The imports of this template that `exporter` does not export.
    pub fn imports_missing_from(&self, exporter: &Template) -> Vec<String> {
        let exports: BTreeSet<String> = exporter.exports().values().map(|v| v.to_string()).collect();
        self.imports().into_iter().filter(|i| !exports.contains(i)).collect()
    }

    /// References that would dangle: for every scenario of
    /// [`Template::condition_scenarios`], every `Ref`, `Fn::GetAtt`, `Fn::Sub`
    /// placeholder and `DependsOn` of each resource (and output) that is
    /// created, after `Fn::If` is resolved, must name a parameter or a
    /// resource that is created in that scenario too. Returns one line per
    /// problem; empty means none.
    pub fn dangling_references(&self) -> Vec<String> {
        let mut problems = BTreeSet::new();
        for params in self.condition_scenarios(&[]) {
            let c = match self.evaluate_conditions(&params) {
                Ok(c) => c,
                Err(e) => {
                    problems.insert(format!("{params:?}: {e}"));
                    continue;
                }
            };
            let exists = |name: &str| {
                self.parameters().contains_key(name)
                    || (self.resources().contains_key(name) && self.is_created(name, &c))
            };
            let mut check = |owner: String, value: &Value, depends_on: Option<&Value>| {
                let mut refs = references(&self.resolve(value, &c));
                match depends_on {
                    Some(Value::String(d)) => {
                        refs.insert(d.clone());
                    }
                    Some(Value::Array(ds)) => refs.extend(ds.iter().filter_map(|d| d.as_str().map(String::from))),
                    _ => {}
                }
                for target in refs.into_iter().filter(|t| !exists(t)) {
                    problems.insert(format!(
                        "{owner} refers to {target}, which is not created with {params:?}"
                    ));
                }
            };
            for (id, r) in self.resources() {
                if self.is_created(id, &c) {
                    check(
                        id.clone(),
                        r.get("Properties").unwrap_or(&Value::Null),
                        r.get("DependsOn"),
                    );
                }
            }
            for (name, o) in self.outputs() {
                let on = o
                    .get("Condition")
                    .and_then(Value::as_str)
                    .is_none_or(|cond| c.get(cond) == Some(&true));
                if on {
                    check(format!("output {name}"), o, None);
                }
            }
        }
        problems.into_iter().collect()
    }
}

fn resolve(value: &Value, conditions: &Conditions) -> Option<Value> {
    match value {
        Value::Object(o) if o.len() == 1 && o.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue") => None,
        Value::Object(o) if o.len() == 1 && o.contains_key("Fn::If") => {
            let args = o["Fn::If"].as_array().filter(|a| a.len() == 3)?;
            let chosen = match args[0].as_str().and_then(|c| conditions.get(c)) {
                Some(true) => &args[1],
                Some(false) => &args[2],
                None => panic!("Fn::If on unknown condition {}", args[0]),
            };
            resolve(chosen, conditions)
        }
        Value::Object(o) => Some(Value::Object(
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), resolve(v, conditions)?)))
                .collect(),
        )),
        Value::Array(a) => Some(Value::Array(a.iter().filter_map(|v| resolve(v, conditions)).collect())),
        other => Some(other.clone()),
    }
}

/// The logical ids and parameter names a value refers to: `Ref` targets,
/// `Fn::GetAtt` resources, and `${Name}` / `${Name.Attribute}` inside
/// `Fn::Sub` strings (less the Sub's own variables). Pseudo parameters
/// (`AWS::...`) are left out. Resolve `Fn::If` first ([`Template::resolve`])
/// to get the references of one scenario.
pub fn references(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    collect_refs(value, &mut out);
    out.retain(|r| !r.starts_with("AWS::"));
    out
}

fn collect_refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("Ref", Value::String(s)) => {
                        out.insert(s.clone());
                    }
                    ("Fn::GetAtt", Value::Array(a)) => {
                        if let Some(s) = a.first().and_then(Value::as_str) {
                            out.insert(s.to_string());
                        }
                    }
                    ("Fn::Sub", Value::String(s)) => sub_refs(s, &BTreeSet::new(), out),
                    ("Fn::Sub", Value::Array(a)) => {
                        let vars: BTreeSet<String> = a
                            .get(1)
                            .and_then(Value::as_object)
                            .map(|m| m.keys().cloned().collect())
                            .unwrap_or_default();
                        if let Some(s) = a.first().and_then(Value::as_str) {
                            sub_refs(s, &vars, out);
                        }
                        for extra in a.iter().skip(1) {
                            collect_refs(extra, out);
                        }
                    }
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The condition names a condition's definition reads (`{"Condition": X}`).
fn collect_condition_names(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("Condition", Value::String(name)) => {
                        out.insert(name.clone());
                    }
                    _ => collect_condition_names(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_condition_names(v, out)),
        _ => {}
    }
}

/// The `${X}` / `${X.Attr}` names in a `Fn::Sub` string (not `${!Literal}`).
fn sub_refs(s: &str, vars: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.starts_with('!') {
            let target = if name.starts_with("AWS::") {
                name
            } else {
                name.split('.').next().unwrap_or(name)
            };
            if !vars.contains(target) {
                out.insert(target.to_string());
            }
        }
        rest = &after[end + 1..];
    }
}

/// A parameter default or allowed value as CloudFormation passes it: a string.
fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn eval_condition(
    definitions: &Map<String, Value>,
    values: &Params,
    name: &str,
    depth: usize,
) -> Result<bool, TemplateError> {
    if depth > 32 {
        return err(format!("condition {name}: nested too deep (a cycle?)"));
    }
    let Some(definition) = definitions.get(name) else {
        return err(format!("unknown condition {name}"));
    };
    eval_bool(definitions, values, definition, depth + 1).map_err(|e| TemplateError(format!("condition {name}: {e}")))
}

fn eval_bool(defs: &Map<String, Value>, values: &Params, v: &Value, depth: usize) -> Result<bool, TemplateError> {
    let Some((function, args)) = v.as_object().filter(|o| o.len() == 1).and_then(|o| o.iter().next()) else {
        return err(format!("not a condition function: {v}"));
    };
    let list = || {
        args.as_array()
            .ok_or_else(|| TemplateError(format!("{function} needs a list, got {args}")))
    };
    match function.as_str() {
        "Condition" => {
            let name = args
                .as_str()
                .ok_or_else(|| TemplateError(format!("Condition needs a name, got {args}")))?;
            eval_condition(defs, values, name, depth)
        }
        "Fn::Not" => {
            let a = list()?;
            if a.len() != 1 {
                return err(format!("Fn::Not takes one condition, got {args}"));
            }
            Ok(!eval_bool(defs, values, &a[0], depth)?)
        }
        "Fn::And" | "Fn::Or" => {
            let a = list()?;
            if !(2..=10).contains(&a.len()) {
                return err(format!("{function} takes 2 to 10 conditions, got {}", a.len()));
            }
            let results = a
                .iter()
                .map(|c| eval_bool(defs, values, c, depth))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if function == "Fn::And" {
                results.iter().all(|b| *b)
            } else {
                results.iter().any(|b| *b)
            })
        }
        "Fn::Equals" => {
            let a = list()?;
            if a.len() != 2 {
                return err(format!("Fn::Equals takes two values, got {args}"));
            }
            Ok(eval_string(values, &a[0])? == eval_string(values, &a[1])?)
        }
        other => err(format!("unsupported function {other} in a condition")),
    }
}

fn eval_string(values: &Params, v: &Value) -> Result<String, TemplateError> {
    if let Some(s) = scalar_string(v) {
        return Ok(s);
    }
    match v.get("Ref").and_then(Value::as_str) {
        Some(name) => values
            .get(name)
            .cloned()
            .ok_or_else(|| TemplateError(format!("parameter {name} has no value and no Default"))),
        None => err(format!("unsupported value in Fn::Equals: {v}")),
    }
}

/// Every statement of the inline policies of IAM role `role` in `template`.
pub fn policy_statements(template: &Template, role: &str) -> Vec<Value> {
    template.properties(role)["Policies"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: {role} has no inline policies", template.name()))
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// A policy statement as the roles of an unresolved template hold it: the
/// statement itself, or both branches of an `Fn::If` statement (a stack
/// grants one or the other, by its parameters), without `AWS::NoValue`.
pub fn statement_branches(statement: &Value) -> Vec<&Value> {
    match statement.get("Fn::If").and_then(Value::as_array) {
        Some(parts) if statement.as_object().is_some_and(|o| o.len() == 1) => {
            parts.iter().skip(1).flat_map(statement_branches).collect()
        }
        _ if statement == &serde_json::json!({"Ref": "AWS::NoValue"}) => Vec::new(),
        _ => vec![statement],
    }
}

/// A policy field that may hold one item or a list (`Statement`, `Action`,
/// `Resource`), as a list; an absent field is an empty one.
pub fn one_or_many(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    }
}

/// cfn/github-oidc.yaml for `env`, its conditions resolved, with a
/// representative repository and the default regions, the stack creating
/// GitHub's OIDC provider.
pub fn github_oidc_for(env: &str) -> Template {
    Template::load("github-oidc.yaml").resolved(&[
        ("Env", env),
        ("GitHubRepository", "acme/tandem"),
        ("OidcProviderArn", ""),
        ("PrimaryRegion", "us-east-1"),
        ("StandbyRegion", "us-east-2"),
    ])
}

/// A policy statement's actions, whether it names one or a list.
pub fn statement_actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SAMPLE: &str = r#"
Parameters:
  Env: { Type: String, AllowedValues: [dev, prod, local] }
  Role: { Type: String, Default: primary, AllowedValues: [primary, standby] }
  Cert: { Type: String, Default: "" }
Conditions:
  IsLocal: !Equals [!Ref Env, local]
  IsRealAws: !Not [!Condition IsLocal]
  IsProd: !Equals [prod, !Ref Env]
  NatPerAz: !And [!Condition IsProd, !Condition IsRealAws]
  HasCert: !Not [!Equals [!Ref Cert, ""]]
  Either: !Or [!Condition IsLocal, !Equals [!Ref Role, standby]]
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !Select [0, !Cidr [!Ref Cidr, 4, 12]]
      Tags: [{ Key: Name, Value: !Sub "tandem-${Env}-vpc" }]
  Nat:
    Type: AWS::EC2::NatGateway
    Condition: NatPerAz
    Properties:
      SubnetId: !GetAtt Subnet.SubnetId
      Deep: !GetAtt Db.Endpoint.Address
      Arch: [!If [IsLocal, x86_64, arm64]]
      Opt: !If [HasCert, !Ref Cert, !Ref AWS::NoValue]
      Sub: !Sub ["${A}-${B.Arn}-${AWS::Region}-${!Literal}", { A: !Ref Vpc }]
Outputs:
  VpcId:
    Value: !Ref Vpc
    Export: { Name: !Sub "tandem-${Env}-vpc" }
"#;

    fn sample() -> Template {
        Template::from_yaml_str("sample", SAMPLE).unwrap()
    }

    #[test]
    fn short_form_tags_become_long_form() {
        let t = sample();
        assert_eq!(
            t.properties("Vpc")["CidrBlock"],
            json!({"Fn::Select": [0, {"Fn::Cidr": [{"Ref": "Cidr"}, 4, 12]}]})
        );
        assert_eq!(
            t.properties("Nat")["SubnetId"],
            json!({"Fn::GetAtt": ["Subnet", "SubnetId"]})
        );
        assert_eq!(
            t.properties("Nat")["Deep"],
            json!({"Fn::GetAtt": ["Db", "Endpoint.Address"]})
        );
        assert_eq!(
            t.json()["Conditions"]["IsRealAws"],
            json!({"Fn::Not": [{"Condition": "IsLocal"}]})
        );
        assert!(Template::from_yaml_str("x", "Resources:\n  A: !Subb x\n").is_err());
        assert!(Template::from_yaml_str("x", "Parameters: {}\n").is_err());
    }

    #[test]
    fn partial_match_is_deep_and_strict_on_values() {
        let actual = json!({"A": 1, "B": {"C": [1, {"D": "x", "E": 2}]}, "F": true});
        assert!(matches_partial(&actual, &json!({"B": {"C": [1, {"D": "x"}]}})));
        assert!(matches_partial(&actual, &json!({"A": 1.0})));
        assert!(
            !matches_partial(&actual, &json!({"B": {"C": [1]}})),
            "array length differs"
        );
        assert!(!matches_partial(&actual, &json!({"B": {"C": [1, {"D": "y"}]}})));
        assert!(!matches_partial(&actual, &json!({"G": null})), "missing key");
        assert!(!matches_partial(&actual, &json!({"F": "true"})), "no type coercion");
    }

    #[test]
    fn assertions_panic_on_mismatch() {
        let t = sample();
        t.resource_count_is("AWS::EC2::VPC", 1);
        assert!(std::panic::catch_unwind(|| t.resource_count_is("AWS::EC2::VPC", 2)).is_err());
        assert!(
            std::panic::catch_unwind(|| t.has_resource_properties("AWS::EC2::VPC", &json!({"CidrBlock": "x"})))
                .is_err()
        );
        assert_eq!(t.condition_of("Nat"), Some("NatPerAz"));
        assert_eq!(t.condition_of("Vpc"), None);
        assert_eq!(t.exports()["VpcId"], json!({"Fn::Sub": "tandem-${Env}-vpc"}));
    }

    #[test]
    fn conditions_evaluate_per_environment() {
        let t = sample();
        let local = t.conditions_for(&[("Env", "local")]);
        assert!(local["IsLocal"] && !local["IsRealAws"] && !local["NatPerAz"] && local["Either"]);
        assert!(!local["HasCert"], "Cert defaults to empty");
        let prod = t.conditions_for(&[("Env", "prod"), ("Cert", "arn")]);
        assert!(prod["NatPerAz"] && prod["HasCert"] && !prod["Either"]);
        let standby = t.conditions_for(&[("Env", "dev"), ("Role", "standby")]);
        assert!(standby["Either"] && !standby["NatPerAz"]);
        assert!(t.evaluate_conditions(&Params::new()).is_err(), "Env has no default");
        // Env decides what exists: every value. Role and Cert only choose
        // Fn::If branches (Either and HasCert are no resource's Condition):
        // each of their values with every Env, not every pair of them.
        let all = t.condition_scenarios(&[]);
        assert_eq!(all.len(), 3 * 2);
        for env in ["dev", "prod", "local"] {
            for (param, value) in [("Role", "primary"), ("Role", "standby"), ("Cert", ""), ("Cert", "x")] {
                assert!(
                    all.iter().any(|s| s["Env"] == env && s[param] == value),
                    "{param}={value} with Env={env}: {all:?}"
                );
            }
        }
        assert_eq!(t.condition_scenarios(&[("Env", "local")]).len(), 2);
        // A leaf that a resource's condition reads becomes a deciding one.
        let deciding = Template::from_yaml_str(
            "deciding",
            &SAMPLE.replace("    Condition: NatPerAz\n", "    Condition: Either\n"),
        )
        .unwrap();
        assert_eq!(deciding.condition_scenarios(&[]).len(), 3 * 2 * 2);
    }

    #[test]
    fn resolve_and_references_follow_the_scenario() {
        let t = sample();
        let local = t.conditions_for(&[("Env", "local")]);
        let nat = t.resolve(t.properties("Nat"), &local);
        assert_eq!(nat["Arch"], json!(["x86_64"]));
        assert!(nat.get("Opt").is_none(), "AWS::NoValue removes the key");
        let refs = references(&nat);
        let expected: BTreeSet<String> = ["B", "Db", "Subnet", "Vpc"].iter().map(|s| s.to_string()).collect();
        assert_eq!(refs, expected);
        let with_cert = t.conditions_for(&[("Env", "dev"), ("Cert", "arn")]);
        assert!(references(&t.resolve(t.properties("Nat"), &with_cert)).contains("Cert"));
    }

    #[test]
    fn resolved_keeps_what_one_scenario_creates() {
        let t = sample();
        let local = t.resolved(&[("Env", "local")]);
        local.resource_count_is("AWS::EC2::NatGateway", 0);
        local.resource_count_is("AWS::EC2::VPC", 1);
        let prod = t.resolved(&[("Env", "prod")]);
        prod.has_resource_properties("AWS::EC2::NatGateway", &json!({"Arch": ["arm64"]}));
        assert!(prod.properties("Nat").get("Opt").is_none());
        assert_eq!(prod.output("VpcId")["Value"], json!({"Ref": "Vpc"}));
    }

    #[test]
    fn names_imports_and_dangling_references() {
        assert!(name_carries(&json!({"Fn::Sub": "tandem-${Env}-x"}), "Env"));
        assert!(name_carries(
            &json!({"Fn::Sub": ["tandem-${Env}-${X}", {"X": "y"}]}),
            "Env"
        ));
        assert!(name_carries(
            &json!({"Fn::Join": ["-", ["tandem", {"Ref": "Env"}]]}),
            "Env"
        ));
        assert!(!name_carries(&json!({"Fn::Sub": "tandem-${Environment}"}), "Env"));
        assert!(!name_carries(&json!("tandem-dev"), "Env"));
        let t = Template::from_yaml_str(
            "refs",
            r#"
Parameters:
  Env: { Type: String, AllowedValues: [dev, local] }
Conditions:
  IsLocal: !Equals [!Ref Env, local]
  IsRealAws: !Not [!Condition IsLocal]
Resources:
  Nat:
    Type: AWS::EC2::NatGateway
    Condition: IsRealAws
    Properties: { SubnetId: !ImportValue { "Fn::Sub": "tandem-${Env}-subnet" } }
  Guarded:
    Type: AWS::EC2::Route
    Properties: { NatGatewayId: !If [IsRealAws, !Ref Nat, !Ref AWS::NoValue] }
  Unguarded:
    Type: AWS::EC2::Route
    DependsOn: Nat
    Properties: { RouteTableId: !Ref Table, Name: !Sub "tandem-${Env}-route" }
"#,
        )
        .unwrap();
        let problems = t.dangling_references();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("Unguarded refers to Nat") && problems[0].contains("local"));
        assert!(
            problems[1..].iter().all(|p| p.starts_with("Unguarded refers to Table")),
            "{problems:?}"
        );
        let imports: Vec<String> = t.imports().into_iter().collect();
        assert_eq!(imports, [r#"{"Fn::Sub":"tandem-${Env}-subnet"}"#]);
        assert!(t.named_resources().is_empty(), "AWS::EC2::Route has no name property");
    }
}
