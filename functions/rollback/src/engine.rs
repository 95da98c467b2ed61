//! The release engine that deploys the service, with the names it knows
//! the service by: this function's own (its settings), and a deployment
//! event's (whose deployment it reports). Two equal values are the same
//! service in the same engine.

use std::fmt;
use tandem_core::release_engine::ReleaseEngine;

/// A release engine and the service's names in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Engine {
    /// CodeDeploy's blue/green (`TANDEM_RELEASE_ENGINE` `codedeploy`, the
    /// default): stop with `StopDeployment`, redeploy with `CreateDeployment`.
    CodeDeploy {
        /// The CodeDeploy application (`tandem-<env>`).
        application: String,
        /// Its deployment group (`tandem-<env>-app`).
        group: String,
    },
    /// Amazon ECS's own blue/green (`TANDEM_RELEASE_ENGINE` `ecs`): stop with
    /// `StopServiceDeployment`, redeploy with `UpdateService`.
    Ecs {
        /// The ECS cluster (`tandem-<env>`).
        cluster: String,
        /// The ECS service (`tandem-<env>-app`).
        service: String,
    },
}

impl Engine {
    /// Which engine this is.
    pub fn kind(&self) -> ReleaseEngine {
        match self {
            Self::CodeDeploy { .. } => ReleaseEngine::CodeDeploy,
            Self::Ecs { .. } => ReleaseEngine::Ecs,
        }
    }

    /// The engine as `TANDEM_RELEASE_ENGINE` spells it: `codedeploy` or `ecs`.
    pub fn setting(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// `tandem-dev/tandem-dev-app` (CodeDeploy's application and group), or
/// `ECS service tandem-dev/tandem-dev-app` (cluster and service).
impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CodeDeploy { application, group } => write!(f, "{application}/{group}"),
            Self::Ecs { cluster, service } => write!(f, "ECS service {cluster}/{service}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engine_names_itself_and_its_service() {
        let cd = Engine::CodeDeploy {
            application: "tandem-dev".into(),
            group: "tandem-dev-app".into(),
        };
        let ecs = Engine::Ecs {
            cluster: "tandem-dev".into(),
            service: "tandem-dev-app".into(),
        };
        assert_eq!(
            (cd.setting(), cd.to_string().as_str()),
            ("codedeploy", "tandem-dev/tandem-dev-app")
        );
        assert_eq!(
            (ecs.setting(), ecs.to_string().as_str()),
            ("ecs", "ECS service tandem-dev/tandem-dev-app")
        );
        assert_ne!(cd, ecs, "the same names in two engines are two services");
    }
}
