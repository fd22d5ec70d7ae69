#!/usr/bin/env python3
"""The checks of scripts/check-deploy that read and compare files.

Run by scripts/check-deploy with its virtualenv's python (PyYAML and
kubernetes-validate installed), one subcommand per check:

  validate K8S_VERSIONS FILE...      Kubernetes schemas (strict) of every object
  base RENDERED                      the rendered base, object by object and across
  metrics SCRAPE RENDERED            dashboard and rule queries against bgpd's /metrics
  dashboard-rules OUT                every dashboard query as a promtool rule file
  peering                            Cilium examples, FRR snippet and bgpd.toml agree
  containerfile                      the Containerfile copies binaries the workspace builds

Each prints what it checked and exits 1 with one line per problem.
"""

import json
import re
import sys
import tomllib
from ipaddress import ip_address, ip_network
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "deploy/base"
RULES = ROOT / "deploy/prometheus/bgp-verifier.rules.yaml"
DASHBOARD = BASE / "dashboards/bgp-verifier.json"
FRR = ROOT / "deploy/udm-pro/frr.conf"
CILIUM = ROOT / "deploy/cilium"
NODES = ROOT / "intent/default/nodes.yaml"
INVENTORY_SRC = ROOT / "bgpd/src/inventory/kubernetes.rs"

# Kinds defined by CustomResourceDefinitions: no schema in
# kubernetes-validate. Each is checked by other means (named here), and a
# kind on neither side is an error rather than silently passed.
CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "cross-checked by `base` and `metrics`",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "equal to the rule file; promtool checks it",
    ("source.toolkit.fluxcd.io/v1", "GitRepository"): "cross-checked by `flux` (in `base`)",
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"): "cross-checked by `flux` (in `base`)",
    ("cilium.io/v2alpha1", "CiliumLoadBalancerIPPool"): "parsed by bgp-intent (deploy_manifests.rs)",
    ("cilium.io/v2alpha1", "CiliumBGPPeeringPolicy"): "parsed by bgp-intent (deploy_manifests.rs)",
    ("cilium.io/v2alpha1", "CiliumBGPClusterConfig"): "parsed by bgp-intent (deploy_manifests.rs)",
    ("cilium.io/v2alpha1", "CiliumBGPPeerConfig"): "parsed by bgp-intent (deploy_manifests.rs)",
    ("cilium.io/v2alpha1", "CiliumBGPAdvertisement"): "parsed by bgp-intent (deploy_manifests.rs)",
}

# The API versions Cilium 1.17 (the home cluster's) serves. cilium.io/v2
# of these kinds only exists from 1.18 on: a manifest written for it fails
# to apply with "no matches for kind".
CILIUM_117 = {
    "CiliumLoadBalancerIPPool": "cilium.io/v2alpha1",
    "CiliumBGPPeeringPolicy": "cilium.io/v2alpha1",
    "CiliumBGPClusterConfig": "cilium.io/v2alpha1",
    "CiliumBGPPeerConfig": "cilium.io/v2alpha1",
    "CiliumBGPAdvertisement": "cilium.io/v2alpha1",
}

# Labels the Prometheus Operator puts on every target of a ServiceMonitor.
TARGET_LABELS = {"job", "instance", "namespace", "service", "pod", "container", "endpoint"}

CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"


class Problems:
    def __init__(self, what):
        self.what = what
        self.items = []
        self.checked = 0

    def check(self, ok, message):
        self.checked += 1
        if not ok:
            self.items.append(message)
        return ok

    def finish(self, summary=""):
        for p in self.items:
            print(f"  FAIL {self.what}: {p}")
        if self.items:
            return 1
        print(f"  ok   {self.what}: {self.checked} checks passed{summary}")
        return 0


def documents(path):
    """The non-empty YAML documents of a file, with the file's name."""
    text = Path(path).read_text(encoding="utf-8")
    return [(Path(path), d) for d in yaml.safe_load_all(text) if d is not None]


def kind_of(doc):
    return (doc.get("apiVersion", ""), doc.get("kind", ""))


def name_of(doc):
    return f"{doc.get('kind')} {doc.get('metadata', {}).get('name')}"


# --- validate ---------------------------------------------------------------


def cmd_validate(versions, files):
    import kubernetes_validate

    p = Problems("kubernetes schemas")
    validated = 0
    custom = 0
    for f in files:
        for path, doc in documents(f):
            api, kind = kind_of(doc)
            shown = path.resolve()
            shown = shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else path
            where = f"{shown}: {api} {kind}"
            if api.startswith("kustomize.config.k8s.io/"):
                continue  # a kustomization.yaml, not an object
            if (api, kind) in CUSTOM_KINDS:
                custom += 1
                continue
            if api.startswith("cilium.io/") or not api or not kind:
                p.check(False, f"{where}: neither a built-in kind nor on the custom-kind list")
                continue
            for v in versions:
                try:
                    kubernetes_validate.validate(doc, v, strict=True)
                    p.check(True, "")
                except kubernetes_validate.ValidationError as e:
                    path_s = ".".join(str(x) for x in e.path)
                    p.check(False, f"{where} {doc.get('metadata', {}).get('name')} (Kubernetes {v}): {path_s}: {e.message}")
                except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as e:
                    p.check(False, f"{where} (Kubernetes {v}): no schema: {e}")
            validated += 1
    return p.finish(f" ({validated} objects against Kubernetes {', '.join(versions)}; "
                    f"{custom} custom resources left to their own checks)")


# --- base -------------------------------------------------------------------


def watched_resources():
    """(group, plural) pairs bgpd's Kubernetes inventory watches, read from
    the WATCHED table (and the NODES constant) of its source."""
    src = INVENTORY_SRC.read_text(encoding="utf-8")
    flat = re.sub(r"\s+", " ", src)
    pairs = set(re.findall(r'Watched::new\( ?Kind::\w+, ?"([^"]*)", ?"[^"]*", ?"([^"]+)",? ?\)', flat))
    return pairs


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def one(p, docs, kind):
    found = by_kind(docs, kind)
    p.check(len(found) == 1, f"expected exactly one {kind}, found {len(found)}")
    return found[0] if found else {}


def port_of(addr):
    return int(addr.rsplit(":", 1)[1])


def host_of(addr):
    return addr.rsplit(":", 1)[0].strip("[]")


def workspace_version():
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text(encoding="utf-8"))
    return cargo["workspace"]["package"]["version"]


def rules_job():
    """The `job` the rules expect the verifier's targets to have."""
    text = RULES.read_text(encoding="utf-8")
    jobs = set(re.findall(r'up\{job="([^"]+)"', text))
    return jobs


def selector_matches(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def cmd_base(rendered):
    docs = [d for _, d in documents(rendered)]
    p = Problems("rendered base")

    ns = one(p, docs, "Namespace")
    namespace = ns.get("metadata", {}).get("name")
    for d in docs:
        if d.get("kind") in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
            continue
        p.check(d.get("metadata", {}).get("namespace") == namespace,
                f"{name_of(d)} is not in namespace {namespace}")

    # RBAC: exactly the resources bgpd watches, read-only.
    role = one(p, docs, "ClusterRole")
    watched = watched_resources()
    p.check(len(watched) >= 8, f"found only {len(watched)} watched resources in {INVENTORY_SRC.relative_to(ROOT)}: has its WATCHED table changed shape?")
    granted = set()
    for rule in role.get("rules", []):
        verbs = set(rule.get("verbs", []))
        p.check(verbs == {"get", "list", "watch"}, f"ClusterRole rule {rule.get('resources')} grants {sorted(verbs)}, not exactly get/list/watch")
        p.check(not rule.get("resourceNames") and not rule.get("nonResourceURLs"), "ClusterRole rule with resourceNames or nonResourceURLs")
        for g in rule.get("apiGroups", []):
            for r in rule.get("resources", []):
                granted.add((g, r))
    for g, r in sorted(watched - granted):
        p.check(False, f"bgpd watches {r} ({g or 'core'}) but the ClusterRole does not grant it")
    for g, r in sorted(granted - watched):
        p.check(False, f"the ClusterRole grants {r} ({g or 'core'}), which bgpd does not watch")

    sa = one(p, docs, "ServiceAccount")
    binding = one(p, docs, "ClusterRoleBinding")
    p.check(binding.get("roleRef", {}).get("name") == role.get("metadata", {}).get("name"),
            "ClusterRoleBinding does not reference the ClusterRole")
    p.check({"kind": "ServiceAccount", "name": sa.get("metadata", {}).get("name"), "namespace": namespace}
            in binding.get("subjects", []), "ClusterRoleBinding does not bind the ServiceAccount")

    # The DaemonSet.
    ds = one(p, docs, "DaemonSet")
    pod = ds.get("spec", {}).get("template", {}).get("spec", {})
    pod_labels = ds.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
    p.check(selector_matches(ds.get("spec", {}).get("selector", {}).get("matchLabels"), pod_labels),
            "DaemonSet selector does not match its pod labels")
    p.check(pod.get("serviceAccountName") == sa.get("metadata", {}).get("name"), "pod does not use the ServiceAccount")
    p.check(pod.get("hostNetwork") is True, "pod is not on the host network")
    p.check(pod.get("dnsPolicy") == "ClusterFirstWithHostNet", "dnsPolicy is not ClusterFirstWithHostNet")
    p.check(any(t.get("key") == CONTROL_PLANE_TAINT and t.get("effect") == "NoSchedule"
                and t.get("operator") == "Exists" for t in pod.get("tolerations", [])),
            "no toleration for the control-plane NoSchedule taint")
    p.check(isinstance(pod.get("terminationGracePeriodSeconds"), int), "no terminationGracePeriodSeconds")
    psc = pod.get("securityContext", {})
    p.check(psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0, "pod does not run as a non-root user")
    p.check(not psc.get("sysctls"), "pod sets sysctls, which a host-network pod may not")
    containers = pod.get("containers", [])
    p.check(len(containers) == 1, f"expected one container, found {len(containers)}")
    c = containers[0] if containers else {}
    env = {e.get("name"): e for e in c.get("env", [])}
    p.check(env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName",
            "NODE_NAME does not come from the downward API (spec.nodeName)")
    csc = c.get("securityContext", {})
    p.check(csc.get("readOnlyRootFilesystem") is True, "root filesystem is not read-only")
    p.check(csc.get("allowPrivilegeEscalation") is False, "privilege escalation is not disabled")
    caps = csc.get("capabilities", {})
    p.check(caps.get("drop") == ["ALL"], "capabilities are not dropped (drop: [ALL])")
    res = c.get("resources", {})
    for k in ("requests", "limits"):
        p.check("memory" in res.get(k, {}), f"no memory {k}")
    p.check("cpu" in res.get("requests", {}), "no cpu request")
    image = c.get("image", "")
    p.check(image.endswith(":" + workspace_version()),
            f"image {image} is not tagged with the workspace version {workspace_version()}")
    ports = {cp.get("name"): cp.get("containerPort") for cp in c.get("ports", [])}
    probes = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe, path in probes.items():
        get = c.get(probe, {}).get("httpGet", {})
        p.check(get.get("path") == path and get.get("port") == "http", f"{probe} is not GET {path} on port http")

    mounts = {m.get("name"): m for m in c.get("volumeMounts", [])}
    volumes = {v.get("name"): v for v in pod.get("volumes", [])}
    for name in mounts:
        p.check(name in volumes, f"volumeMount {name} has no volume")

    # The configuration the pods get.
    configmaps = {cm["metadata"]["name"]: cm for cm in by_kind(docs, "ConfigMap")}
    config_volume = next((v for v in volumes.values() if "configMap" in v and
                          any(k.endswith(".toml") for k in configmaps.get(v["configMap"].get("name"), {}).get("data", {}))), None)
    args = c.get("args", [])
    config_path = args[args.index("--config") + 1] if "--config" in args[:-1] else None
    p.check(config_volume is not None, "no ConfigMap volume holding a .toml file")
    p.check(config_path is not None, "bgpd is not started with --config FILE")
    config = {}
    if config_volume and config_path:
        cm = configmaps[config_volume["configMap"]["name"]]
        mount = mounts.get(config_volume["name"], {})
        rel = Path(config_path).relative_to(mount.get("mountPath", "/")) if config_path.startswith(mount.get("mountPath", "//")) else None
        p.check(rel is not None and str(rel) in cm.get("data", {}),
                f"--config {config_path} is not a key of ConfigMap {cm['metadata']['name']} as mounted")
        if rel is not None and str(rel) in cm.get("data", {}):
            config = tomllib.loads(cm["data"][str(rel)])
    if config:
        listen = config.get("listen", ["127.0.0.1:1790"])
        http = config.get("http", {}).get("listen", "127.0.0.1:9179")
        bgp_ports = {port_of(a) for a in listen}
        p.check(bgp_ports == {ports.get("bgp")}, f"BGP listen ports {sorted(bgp_ports)} differ from containerPort bgp {ports.get('bgp')}")
        p.check(port_of(http) == ports.get("http"), f"HTTP listen port {port_of(http)} differs from containerPort http {ports.get('http')}")
        for a in listen:
            p.check(not (port_of(a) == 179 and not ip_address(host_of(a)).is_loopback),
                    f"listen {a}: port 179 on a real address would capture the router's connections to the node")
        p.check(not ip_address(host_of(http)).is_loopback,
                f"[http] listen {http} is loopback: kubelet probes and Prometheus reach the pod on the node address")
        low = sorted(pt for pt in bgp_ports | {port_of(http)} if pt < 1024)
        added = set(caps.get("add", []))
        p.check(added == ({"NET_BIND_SERVICE"} if low else set()),
                f"capabilities added {sorted(added)}; the ports {sorted(bgp_ports | {port_of(http)})} need "
                f"{'NET_BIND_SERVICE' if low else 'none'}")
        reach = config.get("reachability", {})
        p.check(not (reach.get("enabled") and reach.get("method") == "icmp"),
                "reachability method icmp: a host-network pod cannot set net.ipv4.ping_group_range for itself")
        p.check(config.get("inventory", {}).get("source") == "kubernetes", "inventory source is not kubernetes")
        writable = [m["mountPath"] for n, m in mounts.items() if not m.get("readOnly") and "emptyDir" in volumes.get(n, {})]
        mrt = config.get("mrt", {}).get("dir")
        if mrt:
            p.check(any(mrt.startswith(w.rstrip("/") + "/") or mrt == w for w in writable),
                    f"[mrt] dir {mrt} is on the read-only root filesystem (writable: {writable})")
        secret_mounts = [m["mountPath"] for n, m in mounts.items() if "secret" in volumes.get(n, {})]
        for i, peer in enumerate(config.get("peer", [])):
            pw = peer.get("password_file")
            if pw:
                p.check(any(pw.startswith(s.rstrip("/") + "/") for s in secret_mounts),
                        f"peer[{i}].password_file {pw} is not in a mounted Secret ({secret_mounts})")
    for n, v in volumes.items():
        if "secret" in v:
            mode = v["secret"].get("defaultMode", 0o644)
            p.check(bool(mode & 0o040) and psc.get("fsGroup") is not None,
                    f"Secret volume {n}: mode {oct(mode)} with fsGroup {psc.get('fsGroup')} is not readable by bgpd's group")

    # Metrics Service, ServiceMonitor, job label.
    svc = one(p, docs, "Service")
    p.check(selector_matches(svc.get("spec", {}).get("selector"), pod_labels), "Service selector does not match the pods")
    svc_ports = {sp.get("name"): sp for sp in svc.get("spec", {}).get("ports", [])}
    sm = one(p, docs, "ServiceMonitor")
    p.check(selector_matches(sm.get("spec", {}).get("selector", {}).get("matchLabels"), svc.get("metadata", {}).get("labels", {})),
            "ServiceMonitor selector does not match the Service")
    for ep in sm.get("spec", {}).get("endpoints", []):
        sp = svc_ports.get(ep.get("port"))
        p.check(sp is not None, f"ServiceMonitor endpoint port {ep.get('port')} is not a Service port")
        if sp:
            p.check(sp.get("targetPort") in ("http", ports.get("http")), "the metrics Service port does not target the http port")
        p.check(ep.get("path", "/metrics") == "/metrics", "ServiceMonitor path is not /metrics")
    job_label = sm.get("spec", {}).get("jobLabel")
    job = svc.get("metadata", {}).get("labels", {}).get(job_label) if job_label else svc.get("metadata", {}).get("name")
    for wanted in rules_job():
        p.check(job == wanted, f"the alert rules select job=\"{wanted}\" but the ServiceMonitor's targets get job=\"{job}\"")

    # PrometheusRule = the rule file.
    pr = one(p, docs, "PrometheusRule")
    source = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    p.check(pr.get("spec", {}).get("groups") == source.get("groups"),
            "PrometheusRule groups differ from deploy/prometheus/bgp-verifier.rules.yaml (run scripts/gen-prometheusrule --write)")

    # The dashboard ConfigMap.
    dashboards = [cm for cm in configmaps.values() if cm.get("metadata", {}).get("labels", {}).get("grafana_dashboard") == "1"]
    p.check(len(dashboards) == 1, f"expected one ConfigMap labelled grafana_dashboard: \"1\", found {len(dashboards)}")
    for cm in dashboards:
        for key, text in cm.get("data", {}).items():
            p.check(key.endswith(".json"), f"dashboard key {key} does not end in .json")
            p.check(json.loads(text) == json.loads(DASHBOARD.read_text(encoding="utf-8")),
                    f"dashboard ConfigMap key {key} differs from {DASHBOARD.relative_to(ROOT)}")

    return p.finish(f" ({len(docs)} objects, {len(watched)} watched resources granted)")


# --- flux -------------------------------------------------------------------


def cmd_flux():
    p = Problems("flux")
    docs = [d for f in sorted((ROOT / "deploy/flux").glob("*.yaml")) for _, d in documents(f)]
    repos = {d["metadata"]["name"]: d for d in docs if kind_of(d) == ("source.toolkit.fluxcd.io/v1", "GitRepository")}
    kss = [d for d in docs if kind_of(d) == ("kustomize.toolkit.fluxcd.io/v1", "Kustomization")]
    p.check(len(repos) == 1 and len(kss) == 1, f"expected one GitRepository and one Kustomization, found {len(repos)} and {len(kss)}")
    for ks in kss:
        spec = ks.get("spec", {})
        ref = spec.get("sourceRef", {})
        p.check(ref.get("kind") == "GitRepository" and ref.get("name") in repos,
                f"Kustomization {ks['metadata']['name']} sources {ref}, which is not the GitRepository here")
        path = spec.get("path", "")
        target = (ROOT / path).resolve()
        p.check(path.startswith("./") and (target / "kustomization.yaml").is_file(),
                f"Kustomization path {path} is not a kustomize directory of this repository")
        p.check(spec.get("prune") is True and spec.get("wait") is True, "Kustomization without prune and wait")
        for k in ("interval", "timeout"):
            p.check(re.fullmatch(r"(\d+[hms])+", str(spec.get(k, ""))) is not None, f"Kustomization {k} is not a duration")
        repo = repos.get(ref.get("name"), {})
        tag = repo.get("spec", {}).get("ref", {}).get("tag")
        p.check(tag == "v" + workspace_version(), f"GitRepository tag {tag} is not v{workspace_version()}")
        ignore = repo.get("spec", {}).get("ignore", "")
        rel = str(target.relative_to(ROOT))
        p.check(f"!/{rel}/" in ignore, f"the GitRepository's ignore rules leave out {rel}/, which the Kustomization applies")
    return p.finish()


# --- metrics ----------------------------------------------------------------


def scraped_families(scrape_text):
    """{metric name: set of label names} from the text exposition format."""
    fams = {}
    for line in scrape_text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s", line)
        if not m:
            continue
        labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3) or ""))
        fams.setdefault(m.group(1), set()).update(labels)
    return fams


METRIC = re.compile(r"\b(bgp_verifier_[a-z0-9_]+|up)\b(\s*\{([^}]*)\})?")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")


def check_query(p, where, expr, fams):
    used = []
    for m in METRIC.finditer(expr):
        name = m.group(1)
        if name == "up":
            labels = {"job", "instance"}
        elif p.check(name in fams, f"{where}: metric {name} is not in bgpd's /metrics"):
            labels = fams[name]
        else:
            continue
        used.append(labels)
        for key in re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", m.group(3) or ""):
            p.check(key in labels | TARGET_LABELS, f"{where}: {name} has no label {key}")
    known = set().union(*used) if used else set()
    for g in GROUPING.finditer(expr):
        for key in [k.strip() for k in g.group(1).split(",") if k.strip()]:
            p.check(key in known | TARGET_LABELS, f"{where}: grouping label {key} is on none of the metrics of the query")
    return len(used)


def dashboard_queries():
    dash = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    out = []

    def walk(panels):
        for panel in panels:
            for t in panel.get("targets", []):
                out.append((f"dashboard panel {panel.get('id')} \"{panel.get('title')}\" target {t.get('refId')}", t.get("expr", "")))
            walk(panel.get("panels", []))

    walk(dash.get("panels", []))
    for var in dash.get("templating", {}).get("list", []):
        q = var.get("query")
        if isinstance(q, dict):
            q = q.get("query", "")
        if var.get("type") == "query":
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q or "")
            p_expr = m.group(1) if m else q
            out.append((f"dashboard variable {var.get('name')}", p_expr))
    return dash, out


def cmd_metrics(scrape, rendered):
    fams = scraped_families(Path(scrape).read_text(encoding="utf-8"))
    p = Problems("metric names")
    p.check(len(fams) >= 10, f"the scrape holds only {len(fams)} bgp_verifier families")
    dash, queries = dashboard_queries()

    ids = [panel.get("id") for panel in dash.get("panels", [])]
    p.check(len(ids) == len(set(ids)), "dashboard panel ids are not unique")
    for panel in dash.get("panels", []):
        gp = panel.get("gridPos", {})
        p.check(gp.get("x", 0) + gp.get("w", 0) <= 24, f"dashboard panel {panel.get('id')} is wider than the grid")
        if panel.get("type") != "row":
            p.check(bool(panel.get("targets")), f"dashboard panel {panel.get('id')} has no query")
            p.check(panel.get("datasource", {}).get("uid") == "${datasource}",
                    f"dashboard panel {panel.get('id')} does not use the datasource variable")
    for where, expr in queries:
        p.check(check_query(p, where, expr, fams) > 0, f"{where}: queries no bgp_verifier metric")

    source = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    for group in source.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            check_query(p, f"rule {name}", rule.get("expr", ""), fams)
            for key, text in rule.get("annotations", {}).items():
                for q in re.findall(r'query\s+"((?:[^"\\]|\\.)*)"', text):
                    check_query(p, f"rule {name} annotation {key}", q, fams)

    # Without honorLabels, target labels replace bgpd's labels of the same
    # name (they become exported_<name>), and the rules would aggregate
    # the wrong series.
    clashing = sorted(set().union(*fams.values()) & TARGET_LABELS)
    docs = [d for _, d in documents(rendered)]
    for sm in by_kind(docs, "ServiceMonitor"):
        for ep in sm.get("spec", {}).get("endpoints", []):
            p.check(not clashing or ep.get("honorLabels") is True,
                    f"bgpd's metrics carry the labels {clashing}, which the operator also sets on targets: "
                    f"ServiceMonitor endpoint {ep.get('port')} needs honorLabels: true")
    return p.finish(f" ({len(queries)} dashboard queries, {len(fams)} families scraped)")


def cmd_dashboard_rules(out):
    """Every dashboard query as a recording rule, so promtool parses it."""
    _, queries = dashboard_queries()
    rules = []
    for i, (_, expr) in enumerate(queries):
        concrete = expr.replace("$instance", ".+")
        rules.append({"record": f"dashboard:query_{i}", "expr": concrete})
    Path(out).write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    print(f"  ok   dashboard queries: {len(rules)} written for promtool")
    return 0


# --- peering ----------------------------------------------------------------


def frr_config():
    """router AS, router-id, global lines, neighbours {addr: {...}} and
    per-family activations/add-path of frr.conf."""
    asn = router_id = None
    lines = set()
    neighbors = {}
    family = None
    for raw in FRR.read_text(encoding="utf-8").splitlines():
        line = raw.split("!", 1)[0].strip()
        if not line:
            continue
        if m := re.fullmatch(r"router bgp (\d+)", line):
            asn = int(m.group(1))
        elif m := re.fullmatch(r"bgp router-id (\S+)", line):
            router_id = m.group(1)
        elif m := re.fullmatch(r"address-family (\S+ \S+)", line):
            family = m.group(1)
        elif line == "exit-address-family":
            family = None
        elif m := re.fullmatch(r"neighbor (\S+) (.+)", line):
            n = neighbors.setdefault(m.group(1), {"port": 179, "families": set(), "addpath": set()})
            rest = m.group(2)
            if mm := re.fullmatch(r"remote-as (\d+)", rest):
                n["asn"] = int(mm.group(1))
            elif mm := re.fullmatch(r"port (\d+)", rest):
                n["port"] = int(mm.group(1))
            elif rest == "activate" and family:
                n["families"].add(family)
            elif rest == "addpath-tx-all-paths" and family:
                n["addpath"].add(family)
        else:
            lines.add(line)
    return asn, router_id, lines, neighbors


def node_addresses():
    out = {}
    for _, d in documents(NODES):
        for a in d.get("status", {}).get("addresses", []):
            if a.get("type") == "InternalIP":
                out[d["metadata"]["name"]] = ip_address(a["address"])
    return out


def cilium_neighbors(variant):
    """(address, asn, port) of every neighbour a node gets from one variant."""
    docs = [d for f in sorted((CILIUM / variant).glob("*.yaml")) for _, d in documents(f)]
    out = []
    configs = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "CiliumBGPPeerConfig"}
    for d in docs:
        if d.get("kind") == "CiliumBGPPeeringPolicy":
            for vr in d["spec"]["virtualRouters"]:
                for n in vr.get("neighbors", []):
                    out.append((ip_network(n["peerAddress"]).network_address, n["peerASN"], n.get("peerPort", 179)))
        if d.get("kind") == "CiliumBGPClusterConfig":
            for inst in d["spec"]["bgpInstances"]:
                for peer in inst.get("peers", []):
                    ref = configs.get(peer.get("peerConfigRef", {}).get("name"), {})
                    port = ref.get("spec", {}).get("transport", {}).get("peerPort", 179)
                    out.append((ip_address(peer["peerAddress"]), peer["peerASN"], port))
    return out


def cmd_peering():
    p = Problems("peering")
    config = tomllib.loads((BASE / "bgpd.toml").read_text(encoding="utf-8"))
    bgpd_asn = config.get("asn", 64513)
    bgpd_ports = {port_of(a) for a in config.get("listen", [])}
    bgpd_hosts = [ip_address(host_of(a)) for a in config.get("listen", [])]
    peers = config.get("peer", [])
    speakers = [pr for pr in peers if pr.get("role") == "speaker"]
    routers = [pr for pr in peers if pr.get("role") == "router"]
    p.check(len(routers) == 1 and len(speakers) == 1, "bgpd.toml should have one speaker and one router peer")
    router = routers[0] if routers else {}
    speaker = speakers[0] if speakers else {}
    nodes = node_addresses()
    p.check(len(nodes) == 3, f"expected the three Mac minis in {NODES.relative_to(ROOT)}")

    def listens_on(addr):
        return any(h.is_unspecified or h == addr for h in bgpd_hosts)

    for name, addr in nodes.items():
        p.check(speaker.get("prefix") and addr in ip_network(speaker["prefix"]),
                f"node {name} ({addr}) is outside bgpd's speaker prefix {speaker.get('prefix')}")
        p.check(listens_on(addr), f"bgpd does not listen on node {name}'s address {addr}")

    # The UDM Pro.
    asn, router_id, lines, neighbors = frr_config()
    p.check(asn == bgpd_asn == router.get("remote_asn"), f"AS numbers disagree: FRR {asn}, bgpd {bgpd_asn}, bgpd's router peer {router.get('remote_asn')}")
    p.check(router_id == router.get("address"), f"FRR router-id {router_id} is not bgpd's router peer address {router.get('address')}")
    p.check("no bgp ebgp-requires-policy" in lines, "FRR lacks `no bgp ebgp-requires-policy`: it would drop the nodes' routes")
    node_set = set(nodes.values())
    frr_nodes = {ip_address(a) for a, n in neighbors.items() if n.get("asn") == speaker.get("remote_asn")}
    verifiers = {ip_address(a): n for a, n in neighbors.items() if n.get("asn") == bgpd_asn}
    p.check(frr_nodes == node_set, f"FRR's Cilium neighbours {sorted(map(str, frr_nodes))} are not the nodes {sorted(map(str, node_set))}")
    p.check(len(verifiers) == len(nodes), f"FRR has {len(verifiers)} verifier neighbours for {len(nodes)} bgpd instances")
    for addr, n in sorted(verifiers.items()):
        p.check(addr not in node_set, f"verifier neighbour {addr} is a node address, which FRR already holds as that node's Cilium neighbour")
        p.check(str(addr) != router.get("address"), f"verifier neighbour {addr} is the router itself")
        p.check(n["port"] in bgpd_ports, f"FRR dials the verifier {addr} on {n['port']}, bgpd listens on {sorted(bgpd_ports)}")
        p.check(listens_on(addr), f"bgpd does not listen on {addr}")
        p.check(n["families"] and n["families"] <= n["addpath"],
                f"verifier neighbour {addr}: addpath-tx-all-paths missing in {sorted(n['families'] - n['addpath'])}")
    for addr, n in neighbors.items():
        p.check(n.get("asn") is not None, f"FRR neighbour {addr} has no remote-as")

    # Cilium, both variants: the router on 179, every bgpd instance on its
    # node's address and bgpd's port, nothing else.
    for variant in ("legacy", "v2"):
        got = cilium_neighbors(variant)
        want = {(ip_address(router.get("address")), bgpd_asn, 179)} | {
            (addr, bgpd_asn, port) for addr in node_set for port in bgpd_ports}
        p.check(set(got) == want and len(got) == len(want),
                f"{variant}: Cilium neighbours {sorted((str(a), s, pt) for a, s, pt in got)} "
                f"are not the router on 179 and bgpd on every node address {sorted(bgpd_ports)}")
        for _, d in [x for f in sorted((CILIUM / variant).glob("*.yaml")) for x in documents(f)] + \
                    [x for f in sorted((CILIUM / "pools").glob("*.yaml")) for x in documents(f)]:
            if d.get("apiVersion", "").startswith("cilium.io/"):
                p.check(CILIUM_117.get(d.get("kind")) == d.get("apiVersion"),
                        f"{variant}: {name_of(d)} is {d.get('apiVersion')}; Cilium 1.17 serves {CILIUM_117.get(d.get('kind'))}")
    return p.finish(f" ({len(neighbors)} FRR neighbours, {len(nodes)} nodes)")


# --- containerfile ----------------------------------------------------------


def cmd_containerfile():
    p = Problems("Containerfile")
    text = (ROOT / "Containerfile").read_text(encoding="utf-8")
    bins = {}
    for member in tomllib.loads((ROOT / "Cargo.toml").read_text(encoding="utf-8"))["workspace"]["members"]:
        manifest = tomllib.loads((ROOT / member / "Cargo.toml").read_text(encoding="utf-8"))
        for b in manifest.get("bin", []):
            bins[b["name"]] = manifest["package"]["name"]
    packages = set(re.findall(r"-p\s+([\w-]+)", text))
    copied = set(re.findall(r"target/[\w./-]*release/([\w-]+)", text))
    p.check(bool(copied), "the Containerfile copies no binary out of target/.../release")
    for b in sorted(copied):
        p.check(b in bins, f"the Containerfile copies {b}, which no workspace package builds")
        p.check(bins.get(b) in packages, f"binary {b} comes from package {bins.get(b)}, which the Containerfile does not build")
    p.check(re.search(r"^USER\s+[1-9]\d*(:\d+)?\s*$", text, re.M) is not None, "the final image does not run as a numeric non-root USER")
    p.check("--locked" in text, "cargo build in the Containerfile is not --locked")
    return p.finish(f" (copies {', '.join(sorted(copied))})")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "validate":
        return cmd_validate(args[0].split(","), args[1:])
    if cmd == "base":
        return cmd_base(args[0]) | cmd_flux()
    if cmd == "metrics":
        return cmd_metrics(args[0], args[1])
    if cmd == "dashboard-rules":
        return cmd_dashboard_rules(args[0])
    if cmd == "peering":
        return cmd_peering()
    if cmd == "containerfile":
        return cmd_containerfile()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
