//! The `deploy-hook` Lambda: its settings, its clients built once, then
//! each hook invocation validated (see the library), on `tandem_core::event_fn`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    tandem_core::event_fn::serve::<deploy_hook::shell::Hook>().await
}
