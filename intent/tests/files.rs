//! Loading YAML manifests: the GitOps fixture trees under
//! `tests/fixtures/trees/`, single files, and the errors.

use bgp_intent::files::{find_line, FilesError, Loaded, Skipped};
use bgp_intent::objects::{Inventory, Origin};
use bgp_intent::{load_path, load_str, Kind};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn tree(name: &str) -> (PathBuf, Loaded) {
    let root = fixtures().join("trees").join(name);
    let loaded = load_path(&root).unwrap_or_else(|e| panic!("{name}: {e}"));
    (root, loaded)
}

/// (file under `root`, line) of an origin.
fn at(root: &Path, origin: &Origin) -> (String, u32) {
    let file = origin.file.as_ref().expect("origin has a file");
    let rel = file.strip_prefix(root).expect("origin under the root");
    (
        rel.to_str().unwrap().to_owned(),
        origin.line.expect("origin has a line"),
    )
}

fn skipped_at(root: &Path, s: &Skipped) -> (String, u32) {
    let rel = s.file.strip_prefix(root).unwrap();
    (rel.to_str().unwrap().to_owned(), s.line)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const TREES: [&str; 4] = ["incident", "label-mismatch", "fixed", "duplicate-asn"];

#[test]
fn trees_load_with_the_same_shape() {
    for name in TREES {
        let (root, loaded) = tree(name);
        // 9 kustomization.yaml files and 7 manifests.
        assert_eq!(loaded.files, 16, "{name}");
        // 9 kustomizations, 3 pools, and one document in each other file.
        assert_eq!(loaded.documents, 18, "{name}");
        let inv = &loaded.inventory;
        assert_eq!(inv.len(), 6, "{name}");
        assert_eq!(inv.count(Kind::IpPool), 3);
        assert_eq!(inv.count(Kind::PeeringPolicy), 1);
        assert_eq!(inv.count(Kind::Service), 2);
        let skipped: Vec<_> = loaded
            .skipped
            .iter()
            .map(|s| (skipped_at(&root, s), s.why.as_str()))
            .collect();
        assert_eq!(
            skipped,
            [
                (
                    (
                        "apps/ingress-nginx/controller/deployment.yaml".to_owned(),
                        2
                    ),
                    "apps/v1 Deployment ingress-nginx-controller is not a kind the verifier reads"
                ),
                (
                    ("infrastructure/cilium/helmrelease.yaml".to_owned(), 2),
                    "helm.toolkit.fluxcd.io/v2 HelmRelease cilium is not a kind the verifier reads"
                ),
            ],
            "{name}"
        );
    }
}

#[test]
fn origins_name_file_and_line() {
    let (root, loaded) = tree("incident");
    let inv = &loaded.inventory;
    let pools: Vec<_> = inv
        .pools
        .iter()
        .map(|p| (p.meta.name.as_str(), at(&root, &p.meta.origin)))
        .collect();
    let file = "infrastructure/cilium/loadbalancer-pool-bgp.yaml".to_owned();
    assert_eq!(
        pools,
        [
            ("bgp-default", (file.clone(), 4)),
            ("bgp-ingress", (file.clone(), 17)),
            ("bgp-reserved", (file, 29)),
        ]
    );
    assert_eq!(
        at(&root, &inv.peering_policies[0].meta.origin),
        ("infrastructure/cilium-bgp/policy.yaml".to_owned(), 3)
    );
    let services: Vec<_> = inv
        .services
        .iter()
        .map(|s| {
            (
                s.meta.namespace.as_str(),
                s.meta.name.as_str(),
                at(&root, &s.meta.origin),
            )
        })
        .collect();
    assert_eq!(
        services,
        [
            (
                "ingress-nginx",
                "ingress-nginx-controller",
                ("apps/ingress-nginx/controller/service.yaml".to_owned(), 2)
            ),
            (
                "longhorn-system",
                "longhorn-frontend",
                ("apps/longhorn-system/longhorn/service.yaml".to_owned(), 3)
            ),
        ]
    );
}

#[test]
fn origin_lines_are_where_the_objects_start() {
    let (_, loaded) = tree("fixed");
    for object in loaded.inventory.objects() {
        let origin = &object.meta().origin;
        let text = std::fs::read_to_string(origin.file.as_ref().unwrap()).unwrap();
        let line = origin.line.unwrap();
        assert_eq!(
            find_line(&text, line, "apiVersion"),
            Some(line),
            "{origin:?}"
        );
        let name_line = find_line(&text, line, "metadata.name").expect("metadata.name");
        let written = text.lines().nth(name_line as usize - 1).unwrap();
        assert!(written.contains(&object.meta().name), "{written}");
    }
}

#[test]
fn flux_variables_and_kustomize_namespaces() {
    let (_, loaded) = tree("fixed");
    let inv = &loaded.inventory;
    let ingress = &inv.services[0];
    assert_eq!(ingress.meta.name, "ingress-nginx-controller");
    // ${VAR} stays as written; ${VAR:=default} reads as its default.
    assert_eq!(
        ingress.meta.annotations["external-dns.alpha.kubernetes.io/hostname"],
        "ingress.${SECRET_DOMAIN}"
    );
    assert_eq!(
        ingress.meta.annotations["lbipam.cilium.io/ips"],
        "172.29.52.200"
    );
    assert_eq!(ingress.requested_ips, [ip("172.29.52.200")]);
    assert_eq!(ingress.type_, "LoadBalancer");
    assert!(ingress.ingress_ips.is_empty());
    // No namespace in the file: the kustomization's.
    assert_eq!(inv.services[1].meta.namespace, "longhorn-system");
    assert_eq!(inv.services[1].requested_ips, [ip("172.29.52.100")]);
    // The cilium kustomization's namespace does not reach cluster-scoped pools.
    assert!(inv.pools.iter().all(|p| p.meta.namespace.is_empty()));
}

fn pool_label(inv: &Inventory, service: &str) -> String {
    let s = inv
        .services
        .iter()
        .find(|s| s.meta.name == service)
        .unwrap();
    s.meta.labels["lb.home.arpa/pool"].clone()
}

#[test]
fn the_trees_differ_where_they_should() {
    let (_, incident) = tree("incident");
    let (_, mismatch) = tree("label-mismatch");
    let (root, fixed) = tree("fixed");
    let (_, duplicate) = tree("duplicate-asn");

    let selector = |l: &Loaded| {
        let vrs = &l.inventory.peering_policies[0].spec.virtual_routers;
        vrs.iter()
            .map(|vr| vr.service_selector.clone().unwrap())
            .collect::<Vec<_>>()
    };
    let incident_sel = selector(&incident);
    assert_eq!(incident_sel.len(), 1);
    assert_eq!(
        incident_sel[0].match_labels.as_ref().unwrap()["lb.home.arpa/pool"],
        "bgp-default"
    );
    let fixed_sel = selector(&fixed);
    assert_eq!(fixed_sel.len(), 1);
    let expr = &fixed_sel[0].match_expressions.as_ref().unwrap()[0];
    assert_eq!(expr.operator, "In");
    assert_eq!(
        expr.values.as_deref().unwrap(),
        ["bgp-default", "bgp-ingress", "bgp-reserved"]
    );
    assert_eq!(selector(&mismatch), fixed_sel);
    let dup = &duplicate.inventory.peering_policies[0].spec.virtual_routers;
    assert_eq!(dup.len(), 3);
    assert!(dup.iter().all(|vr| vr.local_asn == 64512));

    assert_eq!(
        pool_label(&fixed.inventory, "ingress-nginx-controller"),
        "bgp-ingress"
    );
    assert_eq!(
        pool_label(&mismatch.inventory, "ingress-nginx-controller"),
        "ingress"
    );
    assert_eq!(
        incident.inventory.pools,
        fixed
            .inventory
            .pools
            .iter()
            .map(|p| {
                // Same pools, read from another tree.
                let mut p = p.clone();
                let file = p.meta.origin.file.take().unwrap();
                let rel = file.strip_prefix(&root).unwrap();
                p.meta.origin.file = Some(fixtures().join("trees/incident").join(rel));
                p
            })
            .collect::<Vec<_>>()
    );

    // lint points at the selector that leaves the ingress pool out.
    let policy = &incident.inventory.peering_policies[0].meta.origin;
    let text = std::fs::read_to_string(policy.file.as_ref().unwrap()).unwrap();
    assert_eq!(
        find_line(
            &text,
            policy.line.unwrap(),
            "spec.virtualRouters[0].serviceSelector"
        ),
        Some(16)
    );
}

#[test]
fn any_load_order_gives_the_same_inventory() {
    let (_, loaded) = tree("incident");
    let objects: Vec<_> = loaded.inventory.objects().collect();
    let reversed: Inventory = objects.iter().rev().cloned().collect();
    assert_eq!(reversed, loaded.inventory);
    let mut shuffled = Inventory::default();
    for (i, o) in objects.iter().enumerate().filter(|(i, _)| i % 2 == 1) {
        assert_eq!(i % 2, 1);
        shuffled.upsert(o.clone());
    }
    for o in objects.iter().step_by(2) {
        shuffled.upsert(o.clone());
    }
    assert_eq!(shuffled, loaded.inventory);
}

#[test]
fn wrong_field_type_names_file_line_and_field() {
    let root = fixtures().join("errors/bad-asn");
    let err = load_path(&root).unwrap_err();
    let file = root.join("infrastructure/cilium-bgp/policy.yaml");
    assert_eq!(err.file(), file);
    assert_eq!(err.line(), Some(12));
    assert_eq!(
        err.to_string(),
        format!(
            "{}:12: CiliumBGPPeeringPolicy bgp-peering: spec.virtualRouters[0].localASN: \
             invalid type: string \"x\", expected i64",
            file.display()
        )
    );
    let FilesError::Object { error, .. } = err else {
        panic!("not an object error")
    };
    assert_eq!(error.path, "spec.virtualRouters[0].localASN");
}

#[test]
fn missing_field_points_at_its_parent() {
    let file = fixtures().join("errors/missing-field.yaml");
    let err = load_path(&file).unwrap_err();
    assert_eq!(err.line(), Some(10));
    assert!(
        err.to_string().ends_with(
            "missing-field.yaml:10: CiliumBGPPeeringPolicy bgp-peering: \
             spec.virtualRouters[0].neighbors[0]: missing field `peerASN`"
        ),
        "{err}"
    );
}

#[test]
fn invalid_yaml_names_the_file_line() {
    let file = fixtures().join("errors/bad-yaml.yaml");
    let err = load_path(&file).unwrap_err();
    assert!(matches!(err, FilesError::Yaml { .. }), "{err:?}");
    assert_eq!(err.line(), Some(12));
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{}:12: invalid YAML: ", file.display())),
        "{shown}"
    );
    // The message's own position counts from the file's start too.
    assert!(shown.contains("line 12 column"), "{shown}");
}

#[test]
fn lists_expand_with_the_lines_of_their_items() {
    let file = fixtures().join("misc/list.yaml");
    let loaded = load_path(&file).unwrap();
    assert_eq!((loaded.files, loaded.documents), (1, 1));
    let inv = &loaded.inventory;
    assert_eq!(inv.nodes.len(), 1);
    assert!(inv.nodes[0].ready);
    assert_eq!(inv.nodes[0].meta.origin.line, Some(7));
    assert_eq!(inv.pools[0].meta.origin.line, Some(22));
    assert_eq!(inv.pools[0].meta.namespace, "");
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(loaded.skipped[0].line, 17);
    assert_eq!(
        loaded.skipped[0].why,
        "v1 ConfigMap kube-root-ca.crt is not a kind the verifier reads"
    );
}

#[test]
fn every_sort_of_document_in_one_file() {
    let file = fixtures().join("misc/mixed.yaml");
    let loaded = load_path(&file).unwrap();
    assert_eq!((loaded.files, loaded.documents), (1, 5));
    let skipped: Vec<_> = loaded
        .skipped
        .iter()
        .map(|s| (s.line, s.why.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            (5, "not valid YAML: a template ({{ … }}), not a manifest"),
            (12, "not a Kubernetes object: a sequence"),
            (
                15,
                "not a Kubernetes object: a mapping without `apiVersion` and `kind`"
            ),
            (
                30,
                &*format!(
                    "second definition of Service default/web; the first, at {}:17, is kept",
                    file.display()
                )
            ),
        ]
    );
    let web = &loaded.inventory.services[0];
    assert_eq!(web.meta.namespace, "default");
    assert_eq!(web.type_, "LoadBalancer");
    assert_eq!(web.meta.annotations["note"], "merged");
    assert_eq!(web.meta.origin.line, Some(17));
    assert_eq!(web.ports[0].port, 8080);
}

#[test]
fn load_str_names_the_given_file() {
    let text = "\n# pools\napiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\n\
                metadata:\n  name: p\nspec:\n  blocks:\n    - cidr: ${CIDR:-10.0.0.0/24}\n";
    let loaded = load_str(text, Path::new("cluster/pools.yaml")).unwrap();
    assert_eq!((loaded.files, loaded.documents), (1, 1));
    let pool = &loaded.inventory.pools[0];
    assert_eq!(pool.spec.blocks[0].cidr.as_deref(), Some("10.0.0.0/24"));
    assert_eq!(
        pool.meta.origin,
        Origin {
            file: Some(PathBuf::from("cluster/pools.yaml")),
            line: Some(3)
        }
    );
    let err = load_str(
        "apiVersion: v1\nkind: Node\nmetadata: []\n",
        Path::new("n.yaml"),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "n.yaml:3: Node: metadata: invalid type: sequence, expected ObjectMeta"
    );
}

#[test]
fn kustomizations_are_passed_over_silently() {
    let text = "resources:\n  - ./a.yaml\nnamespace: apps\n";
    let loaded = load_str(text, Path::new("dir/kustomization.yaml")).unwrap();
    assert_eq!((loaded.files, loaded.documents), (1, 1));
    assert!(loaded.skipped.is_empty());
    assert!(loaded.inventory.is_empty());
    let flux = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n\
                metadata:\n  name: apps\n";
    let loaded = load_str(flux, Path::new("ks.yaml")).unwrap();
    assert!(loaded.skipped.is_empty());
    assert_eq!(loaded.documents, 1);
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("bgp-intent-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn hidden_entries_and_other_extensions_are_not_read() {
    let dir = Scratch::new("hidden");
    let node = "apiVersion: v1\nkind: Node\nmetadata:\n  name: n\n";
    dir.write(".git/objects/x.yaml", "{ not yaml");
    dir.write(".sops.yaml", "{ not yaml");
    dir.write("notes.txt", "{ not yaml");
    dir.write("b/node.yml", node);
    dir.write("a/empty.yaml", "# nothing\n---\n");
    let loaded = load_path(&dir.0).unwrap();
    assert_eq!((loaded.files, loaded.documents), (2, 1));
    assert_eq!(loaded.inventory.nodes[0].meta.name, "n");
    assert_eq!(
        loaded.inventory.nodes[0].meta.origin.file.as_deref(),
        Some(dir.0.join("b/node.yml").as_path())
    );
}

#[test]
fn missing_path_is_an_io_error() {
    let path = fixtures().join("no-such-tree");
    let err = load_path(&path).unwrap_err();
    assert!(matches!(err, FilesError::Io { .. }));
    assert_eq!(err.file(), path);
    assert_eq!(err.line(), None);
}
