//! Finding bgpd's DaemonSet pods through the Kubernetes API: the pods of
//! `--namespace` matching `--selector`, each with its host (or pod)
//! address and `--api-port`.
//!
//! The kubeconfig is `--kubeconfig`, else what `kubectl` reads
//! (`KUBECONFIG`, then `~/.kube/config`), with `--context` or its current
//! context. A pod without an address yet (Pending) is still returned, with
//! the reason it cannot be asked, so that `check` can say it did not answer.

use super::{PodAddress, Target, TargetArgs};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// The pods to ask, sorted by name. An error (exit 2) when the cluster
/// cannot be reached or no pod matches.
pub async fn pods(args: &TargetArgs) -> Result<Vec<Target>, String> {
    let config = config(args).await?;
    let cluster = config.cluster_url.to_string();
    let client = Client::try_from(config)
        .map_err(|e| format!("cannot build a Kubernetes client for {cluster}: {e}"))?;
    let api: Api<Pod> = Api::namespaced(client, &args.namespace);
    let list = api
        .list(&ListParams::default().labels(&args.selector))
        .await
        .map_err(|e| {
            format!(
                "cannot list pods {} in namespace {} of {cluster}: {e}",
                args.selector, args.namespace
            )
        })?;
    let mut out: Vec<Target> = list
        .items
        .iter()
        .map(|p| target_of(p, args.pod_address, args.api_port))
        .collect();
    if out.is_empty() {
        return Err(format!(
            "no pod matches {} in namespace {} of {cluster}: is bgpd deployed there? (--namespace, --selector, or --url)",
            args.selector, args.namespace
        ));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The kubeconfig to use, read as `kubectl` would.
async fn config(args: &TargetArgs) -> Result<Config, String> {
    let options = KubeConfigOptions {
        context: args.context.clone(),
        ..KubeConfigOptions::default()
    };
    match &args.kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path)
                .map_err(|e| format!("cannot read kubeconfig {}: {e}", path.display()))?;
            Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|e| format!("kubeconfig {}: {e}", path.display()))
        }
        None => Config::from_kubeconfig(&options).await.map_err(|e| {
            format!(
                "nothing to check: no --url or BGP_PROBE_URL, and no usable kubeconfig to find the bgpd pods ({e})"
            )
        }),
    }
}

/// One pod as a target.
fn target_of(pod: &Pod, which: PodAddress, port: u16) -> Target {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    let status = pod.status.as_ref();
    let address = status.and_then(|s| match which {
        PodAddress::Host => s.host_ip.clone(),
        PodAddress::Pod => s.pod_ip.clone(),
    });
    let phase = status
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Unknown".into());
    match address.filter(|a| !a.is_empty()) {
        Some(a) => {
            let host = if a.contains(':') { format!("[{a}]") } else { a };
            Target {
                name,
                node,
                url: Some(format!("http://{host}:{port}")),
                problem: None,
            }
        }
        None => Target {
            name,
            node,
            url: None,
            problem: Some(format!("pod is {phase} and has no address yet")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn pods_become_targets() {
        let p = pod(serde_json::json!({
            "metadata": {"name": "bgpd-x"},
            "spec": {"nodeName": "k8s-1", "containers": []},
            "status": {"phase": "Running", "hostIP": "10.1.0.1", "podIP": "fd00::5"}
        }));
        let t = target_of(&p, PodAddress::Host, 9179);
        assert_eq!(t.url.as_deref(), Some("http://10.1.0.1:9179"));
        assert_eq!(t.node.as_deref(), Some("k8s-1"));
        let t = target_of(&p, PodAddress::Pod, 1);
        assert_eq!(t.url.as_deref(), Some("http://[fd00::5]:1"));
        let pending = pod(serde_json::json!({
            "metadata": {"name": "bgpd-y"},
            "status": {"phase": "Pending"}
        }));
        let t = target_of(&pending, PodAddress::Host, 9179);
        assert_eq!(t.url, None);
        assert_eq!(
            t.problem.as_deref(),
            Some("pod is Pending and has no address yet")
        );
    }
}
