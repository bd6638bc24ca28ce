//! The generic tree of a Convertigo project: [`Elem`]s (beans, properties, attributes, CDATA and
//! text nodes) and how they are read and navigated.

/// A node of the bean tree: an element, a CDATA block (`→:`) or a text node (`→→:` / inline).
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// An element (bean or property).
    Elem(Elem),
    /// CDATA.
    Cdata(String),
    /// Text.
    Text(String),
}

/// An element: a bean (`↓Name [pkg.Class-priority]:`) or a plain element (`key: value`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Elem {
    /// For beans `Name [pkg.Class-priority]`, otherwise the tag (property) name.
    pub key: String,
    /// Whether it is a bean.
    pub bean: bool,
    /// XML attributes (`↑key: value`).
    pub attrs: Vec<(String, String)>,
    /// Children in order.
    pub children: Vec<Node>,
    /// `🗏 path`: the bean's content lives in `_c8oProject/<path>`.
    pub file: Option<String>,
}

pub(super) fn split_key(key: &str) -> (&str, &str, Option<&str>) {
    if let (Some(i), true) = (key.rfind(" ["), key.ends_with(']')) {
        let inner = &key[i + 2..key.len() - 1];
        if let Some(j) = inner.rfind('-') {
            let p = &inner[j + 1..];
            if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                return (&key[..i], &inner[..j], Some(p));
            }
        }
        return (&key[..i], inner, None);
    }
    (key, "", None)
}

impl Elem {
    /// A new bean; `class` without `com.twinsoft.convertigo.beans.`.
    pub fn new_bean(name: &str, class: &str, priority: Option<&str>) -> Elem {
        let key = match priority {
            Some(p) => format!("{name} [{class}-{p}]"),
            None => format!("{name} [{class}]"),
        };
        Elem {
            key,
            bean: true,
            ..Default::default()
        }
    }

    /// Bean name.
    pub fn name(&self) -> &str {
        split_key(&self.key).0
    }

    /// Bean class without `com.twinsoft.convertigo.beans.` (`connectors.FullSyncConnector`).
    pub fn class(&self) -> &str {
        split_key(&self.key).1
    }

    /// Bean priority (the `-<number>` suffix).
    pub fn priority(&self) -> Option<&str> {
        split_key(&self.key).2
    }

    /// Child beans.
    pub fn beans(&self) -> impl Iterator<Item = &Elem> {
        self.children.iter().filter_map(|n| match n {
            Node::Elem(e) if e.bean => Some(e),
            _ => None,
        })
    }

    /// An attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn prop_elem(&self, name: &str) -> Option<&Elem> {
        self.children.iter().find_map(|n| match n {
            Node::Elem(e) if !e.bean && e.key == name => Some(e),
            _ => None,
        })
    }

    /// A property with a simple value (text or CDATA).
    pub fn prop(&self, name: &str) -> Option<String> {
        self.prop_elem(name).and_then(simple_value)
    }

    /// Sets a simple property (keeping its CDATA/text form), inserts it in name order before the
    /// child beans, or removes it (`None`). A complex property is never removed.
    pub fn set_prop(&mut self, name: &str, value: Option<&str>) {
        self.set_prop_as(name, value, false)
    }

    pub(super) fn set_prop_as(&mut self, name: &str, value: Option<&str>, cdata: bool) {
        let pos = self
            .children
            .iter()
            .position(|n| matches!(n, Node::Elem(e) if !e.bean && e.key == name));
        match (pos, value) {
            (Some(i), Some(v)) => {
                if let Node::Elem(e) = &mut self.children[i] {
                    if simple_value(e).as_deref() == Some(v) {
                        return; // unchanged: keep its form (`value: ` stays empty, not `''`)
                    }
                    let was_cdata = matches!(e.children.as_slice(), [Node::Cdata(_)]);
                    if simple_value(e).is_some() || cdata {
                        e.children = vec![if was_cdata || cdata {
                            Node::Cdata(v.into())
                        } else {
                            Node::Text(v.into())
                        }];
                    } else {
                        e.children = vec![Node::Text(v.into())];
                        e.attrs.clear();
                    }
                }
            }
            (Some(i), None) => {
                if let Node::Elem(e) = &self.children[i] {
                    if simple_value(e).is_some() {
                        self.children.remove(i);
                    }
                }
            }
            (None, Some(v)) => {
                let node = Node::Elem(Elem {
                    key: name.into(),
                    children: vec![if cdata {
                        Node::Cdata(v.into())
                    } else {
                        Node::Text(v.into())
                    }],
                    ..Default::default()
                });
                let at = self
                    .children
                    .iter()
                    .position(|n| match n {
                        Node::Elem(e) => e.bean || e.key.as_str() > name,
                        _ => false,
                    })
                    .unwrap_or(self.children.len());
                self.children.insert(at, node);
            }
            (None, None) => {}
        }
    }
}

pub(super) fn simple_value(e: &Elem) -> Option<String> {
    if e.bean || !e.attrs.is_empty() {
        return None;
    }
    match e.children.as_slice() {
        [] => Some(String::new()),
        [Node::Text(t)] | [Node::Cdata(t)] => Some(t.clone()),
        _ => None,
    }
}
