//! Who runs a release's blue/green deployment: one name for the CLI's
//! configuration (`release_engine`), the region stack's `ReleaseEngine`
//! parameter, the release resource's `Engine` property and the rollback
//! function's `TANDEM_RELEASE_ENGINE`.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use std::fmt;

/// The release engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ReleaseEngine {
    /// A CodeDeploy deployment group (the service under the `CODE_DEPLOY`
    /// controller): `codedeploy`, the default.
    #[default]
    CodeDeploy,
    /// The service's own `ECS` deployment controller, with a blue/green,
    /// linear or canary strategy: `ecs`.
    Ecs,
}

/// A name that is no release engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is {0:?}; use \"codedeploy\" (the default) or \"ecs\"")]
pub struct UnknownReleaseEngine(pub String);

impl ReleaseEngine {
    /// The engine's name, as every setting spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CodeDeploy => "codedeploy",
            Self::Ecs => "ecs",
        }
    }

    /// The engine named `text`.
    pub fn parse(text: &str) -> Result<Self, UnknownReleaseEngine> {
        match text {
            "codedeploy" => Ok(Self::CodeDeploy),
            "ecs" => Ok(Self::Ecs),
            other => Err(UnknownReleaseEngine(other.to_owned())),
        }
    }
}

impl fmt::Display for ReleaseEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ReleaseEngine {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReleaseEngine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engine_reads_back_as_it_is_spelled() {
        for engine in [ReleaseEngine::CodeDeploy, ReleaseEngine::Ecs] {
            assert_eq!(ReleaseEngine::parse(engine.as_str()), Ok(engine));
            let json = serde_json::to_value(engine).unwrap();
            assert_eq!(json, engine.as_str());
            assert_eq!(serde_json::from_value::<ReleaseEngine>(json).unwrap(), engine);
        }
        assert_eq!(ReleaseEngine::default(), ReleaseEngine::CodeDeploy);
    }

    #[test]
    fn an_unknown_name_is_refused_naming_it_and_the_two_engines() {
        let e = ReleaseEngine::parse("ECS").unwrap_err().to_string();
        assert!(
            e.contains("\"ECS\"") && e.contains("\"codedeploy\"") && e.contains("\"ecs\""),
            "{e}"
        );
        let e = serde_json::from_value::<ReleaseEngine>(serde_json::json!("ecs-native")).unwrap_err();
        assert!(e.to_string().contains("ecs-native"), "{e}");
    }
}
