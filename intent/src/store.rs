//! Keeping an [`Inventory`] up to date one object at a time, as a watcher
//! sees objects added, changed and deleted, or as a file source reads them.
//!
//! Every vector of an inventory is kept sorted by (namespace, name), with at
//! most one object per key, so two inventories that hold the same objects
//! compare equal whatever order the objects arrived in.

use crate::objects::{Inventory, Meta};
use crate::parse::{Kind, Object};

/// Objects with metadata, so one generic function serves every kind.
trait HasMeta {
    fn meta(&self) -> &Meta;
}

macro_rules! has_meta {
    ($($t:ident),*) => {
        $(impl HasMeta for crate::objects::$t {
            fn meta(&self) -> &Meta {
                &self.meta
            }
        })*
    };
}

has_meta!(
    Service,
    EndpointSlice,
    Node,
    IpPool,
    PeeringPolicy,
    ClusterConfig,
    PeerConfig,
    Advertisement
);

/// The (namespace, name) key of an object.
fn key<T: HasMeta>(item: &T) -> (&str, &str) {
    let meta = item.meta();
    (&meta.namespace, &meta.name)
}

fn position<T: HasMeta>(items: &[T], namespace: &str, name: &str) -> Result<usize, usize> {
    items.binary_search_by(|probe| key(probe).cmp(&(namespace, name)))
}

/// Inserts `item` into the sorted `items`, replacing the one with the same
/// key.
fn upsert_sorted<T: HasMeta>(items: &mut Vec<T>, item: T) {
    let (namespace, name) = key(&item);
    match position(items, namespace, name) {
        Ok(i) => items[i] = item,
        Err(i) => items.insert(i, item),
    }
}

/// Removes the item with the key (namespace, name) from the sorted `items`.
fn remove_sorted<T: HasMeta>(items: &mut Vec<T>, namespace: &str, name: &str) -> bool {
    match position(items, namespace, name) {
        Ok(i) => {
            items.remove(i);
            true
        }
        Err(_) => false,
    }
}

fn find_sorted<'a, T: HasMeta>(items: &'a [T], namespace: &str, name: &str) -> Option<&'a Meta> {
    let i = position(items, namespace, name).ok()?;
    Some(items[i].meta())
}

/// Sorts `items` by key, keeping only the last of the items that share one.
fn sort_dedup<T: HasMeta>(items: &mut Vec<T>) {
    // Stable, so that items with one key stay in the order they were pushed.
    items.sort_by(|a, b| key(a).cmp(&key(b)));
    let mut i = items.len();
    while i > 1 {
        i -= 1;
        if key(&items[i - 1]) == key(&items[i]) {
            items.remove(i - 1);
        }
    }
}

/// Evaluates `$body` with `$v` bound to the vector of the inventory
/// (`$inv`, a reference expression such as `&mut self`) that holds objects
/// of `$kind`.
macro_rules! with_vec {
    ($kind:expr, $v:ident = [$($inv:tt)*], $body:expr) => {
        match $kind {
            Kind::Service => {
                let $v = $($inv)*.services;
                $body
            }
            Kind::EndpointSlice => {
                let $v = $($inv)*.endpoint_slices;
                $body
            }
            Kind::Node => {
                let $v = $($inv)*.nodes;
                $body
            }
            Kind::IpPool => {
                let $v = $($inv)*.pools;
                $body
            }
            Kind::PeeringPolicy => {
                let $v = $($inv)*.peering_policies;
                $body
            }
            Kind::ClusterConfig => {
                let $v = $($inv)*.cluster_configs;
                $body
            }
            Kind::PeerConfig => {
                let $v = $($inv)*.peer_configs;
                $body
            }
            Kind::Advertisement => {
                let $v = $($inv)*.advertisements;
                $body
            }
        }
    };
}

impl Inventory {
    /// Adds `o`, replacing the object of the same kind, namespace and name.
    pub fn upsert(&mut self, o: Object) {
        match o {
            Object::Service(x) => upsert_sorted(&mut self.services, x),
            Object::EndpointSlice(x) => upsert_sorted(&mut self.endpoint_slices, x),
            Object::Node(x) => upsert_sorted(&mut self.nodes, x),
            Object::IpPool(x) => upsert_sorted(&mut self.pools, x),
            Object::PeeringPolicy(x) => upsert_sorted(&mut self.peering_policies, x),
            Object::ClusterConfig(x) => upsert_sorted(&mut self.cluster_configs, x),
            Object::PeerConfig(x) => upsert_sorted(&mut self.peer_configs, x),
            Object::Advertisement(x) => upsert_sorted(&mut self.advertisements, x),
        }
    }

    /// Removes the object of `kind` with this namespace (empty for
    /// cluster-scoped kinds) and name; false when there was none.
    pub fn remove(&mut self, kind: Kind, namespace: &str, name: &str) -> bool {
        with_vec!(kind, v = [&mut self], remove_sorted(v, namespace, name))
    }

    /// The metadata of the object of `kind` with this namespace and name.
    pub fn get_meta(&self, kind: Kind, namespace: &str, name: &str) -> Option<&Meta> {
        with_vec!(kind, v = [&self], find_sorted(v, namespace, name))
    }

    /// Number of objects of every kind.
    pub fn len(&self) -> usize {
        Kind::ALL.iter().map(|k| self.count(*k)).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of objects of `kind`.
    pub fn count(&self, kind: Kind) -> usize {
        with_vec!(kind, v = [&self], v.len())
    }

    /// Sorts every vector by (namespace, name), keeping only the last of the
    /// objects that share a key (as [`upsert`](Self::upsert) would have). For
    /// inventories filled by pushing onto the vectors directly.
    pub fn sort(&mut self) {
        for kind in Kind::ALL {
            with_vec!(kind, v = [&mut self], sort_dedup(v))
        }
    }

    /// Every object, kind by kind in [`Kind::ALL`] order, each sorted.
    pub fn objects(&self) -> impl Iterator<Item = Object> + '_ {
        let s = self.services.iter().cloned().map(Object::Service);
        let e = self
            .endpoint_slices
            .iter()
            .cloned()
            .map(Object::EndpointSlice);
        let n = self.nodes.iter().cloned().map(Object::Node);
        let p = self.pools.iter().cloned().map(Object::IpPool);
        let pp = self
            .peering_policies
            .iter()
            .cloned()
            .map(Object::PeeringPolicy);
        let cc = self
            .cluster_configs
            .iter()
            .cloned()
            .map(Object::ClusterConfig);
        let pc = self.peer_configs.iter().cloned().map(Object::PeerConfig);
        let a = self
            .advertisements
            .iter()
            .cloned()
            .map(Object::Advertisement);
        s.chain(e)
            .chain(n)
            .chain(p)
            .chain(pp)
            .chain(cc)
            .chain(pc)
            .chain(a)
    }
}

impl Extend<Object> for Inventory {
    fn extend<I: IntoIterator<Item = Object>>(&mut self, iter: I) {
        iter.into_iter().for_each(|o| self.upsert(o));
    }
}

impl FromIterator<Object> for Inventory {
    fn from_iter<I: IntoIterator<Item = Object>>(iter: I) -> Self {
        let mut inventory = Inventory::default();
        inventory.extend(iter);
        inventory
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::{IpPool, Node, Service};

    fn meta(namespace: &str, name: &str) -> Meta {
        Meta {
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            ..Meta::default()
        }
    }

    fn service(namespace: &str, name: &str, type_: &str) -> Object {
        Object::Service(Service {
            meta: meta(namespace, name),
            type_: type_.to_owned(),
            ..Service::default()
        })
    }

    fn node(name: &str) -> Object {
        Object::Node(Node {
            meta: meta("", name),
            ..Node::default()
        })
    }

    #[test]
    fn upsert_replaces_same_key_and_keeps_order() {
        let mut inv = Inventory::default();
        inv.upsert(service("b", "x", "ClusterIP"));
        inv.upsert(service("a", "z", "ClusterIP"));
        inv.upsert(service("a", "y", "ClusterIP"));
        inv.upsert(service("b", "x", "LoadBalancer"));
        let keys: Vec<_> = inv
            .services
            .iter()
            .map(|s| {
                (
                    s.meta.namespace.as_str(),
                    s.meta.name.as_str(),
                    s.type_.as_str(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("a", "y", "ClusterIP"),
                ("a", "z", "ClusterIP"),
                ("b", "x", "LoadBalancer")
            ]
        );
        assert_eq!(inv.len(), 3);
    }

    #[test]
    fn any_order_gives_equal_inventories() {
        let objects = [
            node("mini-2"),
            service("apps", "web", "LoadBalancer"),
            node("mini-1"),
            Object::IpPool(IpPool {
                meta: meta("", "pool"),
                ..IpPool::default()
            }),
            node("mini-3"),
            service("apps", "api", "LoadBalancer"),
        ];
        let forward: Inventory = objects.iter().cloned().collect();
        let backward: Inventory = objects.iter().rev().cloned().collect();
        assert_eq!(forward, backward);
        assert_eq!(forward.len(), 6);
        assert_eq!(forward.count(Kind::Node), 3);
        assert_eq!(forward.objects().count(), 6);
        let rebuilt: Inventory = forward.objects().collect();
        assert_eq!(rebuilt, forward);
    }

    #[test]
    fn remove_by_kind_and_key() {
        let mut inv: Inventory = [node("mini-1"), service("", "mini-1", "LoadBalancer")]
            .into_iter()
            .collect();
        assert!(!inv.remove(Kind::Node, "default", "mini-1"));
        assert!(inv.remove(Kind::Node, "", "mini-1"));
        assert!(!inv.remove(Kind::Node, "", "mini-1"));
        assert_eq!(inv.len(), 1);
        assert!(inv.get_meta(Kind::Service, "", "mini-1").is_some());
        assert!(inv.get_meta(Kind::Node, "", "mini-1").is_none());
        assert!(inv.remove(Kind::Service, "", "mini-1"));
        assert!(inv.is_empty());
    }

    #[test]
    fn sort_orders_and_keeps_the_last_duplicate() {
        let mut inv = Inventory::default();
        for (name, t) in [("b", "1"), ("a", "2"), ("b", "3")] {
            let Object::Service(s) = service("ns", name, t) else {
                unreachable!()
            };
            inv.services.push(s);
        }
        inv.sort();
        let got: Vec<_> = inv
            .services
            .iter()
            .map(|s| (s.meta.name.as_str(), s.type_.as_str()))
            .collect();
        assert_eq!(got, [("a", "2"), ("b", "3")]);
    }
}
