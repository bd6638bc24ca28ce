//! Revision trees.
//!
//! A document's history is a forest of revisions (several roots appear when old ancestors
//! were stemmed, or when unrelated histories were replicated in). It is stored as a flat list of
//! nodes with parent indices, which makes merging, stemming and encoding simple.
//!
//! Invariants (checked by the tests and the property test):
//! - `(pos, hash)` is unique in a tree;
//! - a node's parent, when present, has `pos` exactly one less;
//! - every leaf has a body ([`BodyState::Inline`]); interior nodes have theirs archived in the
//!   `revs` table until compaction, or missing when we never received it;
//! - the winner is chosen by CouchDB's rule: non-deleted leaves beat deleted ones, then the
//!   highest generation, then the highest hash in byte order. It depends only on the set of
//!   leaves, so replicas holding the same leaves agree on the winner whatever the arrival order.

use std::cmp::Ordering;

use crate::rev::Rev;

/// Metadata of one attachment of one revision. The bytes live in the `atts` table under
/// `digest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttMeta {
    /// Attachment name (the key in `_attachments`).
    pub name: String,
    /// MIME type given by the writer.
    pub content_type: String,
    /// `md5-<base64 of the md5 of the bytes>`, as CouchDB writes it.
    pub digest: String,
    /// Length in bytes.
    pub length: u64,
    /// Generation of the revision that last changed this attachment.
    pub revpos: u64,
}

/// The content of one revision: the JSON body without the special `_` members, and the
/// attachments' metadata.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Body {
    /// Serialized JSON object, without `_id`, `_rev`, `_deleted`, `_attachments`, `_revisions`.
    pub json: String,
    /// Attachments, sorted by name.
    pub atts: Vec<AttMeta>,
}

/// Where the body of a revision is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyState {
    /// Never received (an ancestor known only by its id from `_revisions`).
    Missing,
    /// Stored in the document record (always the case for leaves).
    Inline(Body),
    /// Stored in the `revs` table (an interior revision, until compaction removes it).
    Archived,
}

/// One revision in a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevNode {
    /// Generation.
    pub pos: u64,
    /// Hash part of the revision id.
    pub hash: String,
    /// Index of the parent node, if known.
    pub parent: Option<u32>,
    /// Whether this revision is a deletion (tombstone).
    pub deleted: bool,
    /// Local sequence at which this revision was stored (0 for missing ancestors).
    pub seq: u64,
    /// Where its body is.
    pub body: BodyState,
}

impl RevNode {
    /// This node's revision id.
    pub fn rev(&self) -> Rev {
        Rev::new(self.pos, self.hash.clone())
    }
}

/// A body moved out of the record because its revision stopped being a leaf.
pub type Archived = (Rev, Body);

/// The revision forest of one document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevTree {
    /// All nodes; parents are indices into this list.
    pub nodes: Vec<RevNode>,
}

/// What [`RevTree::merge_path`] did.
#[derive(Debug, Default)]
pub struct MergeOutcome {
    /// The newest revision of the path was already in the tree: nothing changed.
    pub existed: bool,
    /// Index of the (new or existing) leaf node of the path.
    pub leaf: usize,
    /// Bodies of leaves that became interior nodes and must be archived.
    pub archived: Vec<Archived>,
}

impl RevTree {
    /// Index of the node with this revision id.
    pub fn find(&self, pos: u64, hash: &str) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.pos == pos && n.hash == hash)
    }

    /// Index of `rev`.
    pub fn find_rev(&self, rev: &Rev) -> Option<usize> {
        self.find(rev.pos, &rev.hash)
    }

    /// `true` for each node that has no child.
    pub fn leaf_flags(&self) -> Vec<bool> {
        let mut leaf = vec![true; self.nodes.len()];
        for n in &self.nodes {
            if let Some(p) = n.parent {
                leaf[p as usize] = false;
            }
        }
        leaf
    }

    /// Whether node `i` is a leaf.
    pub fn is_leaf(&self, i: usize) -> bool {
        !self.nodes.iter().any(|n| n.parent == Some(i as u32))
    }

    /// Leaf indices, winner first, then in decreasing CouchDB order.
    pub fn leaves(&self) -> Vec<usize> {
        let flags = self.leaf_flags();
        let mut v: Vec<usize> = (0..self.nodes.len()).filter(|&i| flags[i]).collect();
        v.sort_by(|&a, &b| self.rank(b, a));
        v
    }

    fn rank(&self, a: usize, b: usize) -> Ordering {
        let (x, y) = (&self.nodes[a], &self.nodes[b]);
        (!x.deleted)
            .cmp(&!y.deleted)
            .then(x.pos.cmp(&y.pos))
            .then_with(|| x.hash.as_bytes().cmp(y.hash.as_bytes()))
    }

    /// Index of the winning leaf. Panics on an empty tree (records always hold one node).
    pub fn winner(&self) -> usize {
        let flags = self.leaf_flags();
        (0..self.nodes.len())
            .filter(|&i| flags[i])
            .max_by(|&a, &b| self.rank(a, b))
            .expect("a revision tree is never empty")
    }

    /// Node indices from `i` up to its root, `i` first.
    pub fn path(&self, i: usize) -> Vec<usize> {
        let mut out = vec![i];
        let mut cur = i;
        while let Some(p) = self.nodes[cur].parent {
            cur = p as usize;
            out.push(cur);
        }
        out
    }

    /// Leaves descending from node `i` (itself when it is a leaf).
    pub fn leaves_under(&self, i: usize) -> Vec<usize> {
        let flags = self.leaf_flags();
        (0..self.nodes.len())
            .filter(|&l| flags[l] && self.path(l).contains(&i))
            .collect()
    }

    /// Adds a child of `parent` (or a new root) and returns its index and the parent's body if
    /// the parent stopped being a leaf. The caller guarantees `(pos, hash)` is new.
    pub fn add_child(
        &mut self,
        parent: Option<usize>,
        rev: Rev,
        deleted: bool,
        seq: u64,
        body: Body,
    ) -> (usize, Option<Archived>) {
        let mut archived = None;
        if let Some(p) = parent {
            let node = &mut self.nodes[p];
            if let BodyState::Inline(_) = node.body {
                let old = std::mem::replace(&mut node.body, BodyState::Archived);
                if let BodyState::Inline(b) = old {
                    archived = Some((node.rev(), b));
                }
            }
        }
        self.nodes.push(RevNode {
            pos: rev.pos,
            hash: rev.hash,
            parent: parent.map(|p| p as u32),
            deleted,
            seq,
            body: BodyState::Inline(body),
        });
        (self.nodes.len() - 1, archived)
    }

    /// Merges a replicated path (`new_edits=false`), oldest revision first, newest last. The
    /// newest gets `body` and `deleted`; unknown ancestors are added without a body. When the
    /// newest revision is already known nothing changes (CouchDB keeps the first body it saw).
    pub fn merge_path(
        &mut self,
        path: &[Rev],
        deleted: bool,
        seq: u64,
        body: Body,
    ) -> MergeOutcome {
        let newest = path.last().expect("merge_path needs at least one revision");
        if let Some(i) = self.find_rev(newest) {
            return MergeOutcome {
                existed: true,
                leaf: i,
                archived: vec![],
            };
        }
        let mut out = MergeOutcome::default();
        let mut prev: Option<usize> = None;
        let last = path.len() - 1;
        let mut body = Some(body);
        for (k, rev) in path.iter().enumerate() {
            let linkable = |prev: Option<usize>, nodes: &Vec<RevNode>| {
                prev.filter(|&p| nodes[p].pos + 1 == rev.pos)
            };
            match self.find_rev(rev) {
                Some(i) => {
                    // An existing root whose ancestor we just learned: link it.
                    if self.nodes[i].parent.is_none() {
                        if let Some(p) = linkable(prev, &self.nodes) {
                            self.nodes[i].parent = Some(p as u32);
                        }
                    }
                    prev = Some(i);
                }
                None => {
                    let parent = linkable(prev, &self.nodes);
                    if k == last {
                        let (i, arch) = self.add_child(
                            parent,
                            rev.clone(),
                            deleted,
                            seq,
                            body.take().unwrap_or_default(),
                        );
                        out.archived.extend(arch);
                        prev = Some(i);
                    } else {
                        self.nodes.push(RevNode {
                            pos: rev.pos,
                            hash: rev.hash.clone(),
                            parent: parent.map(|p| p as u32),
                            deleted: false,
                            seq: 0,
                            body: BodyState::Missing,
                        });
                        prev = Some(self.nodes.len() - 1);
                    }
                }
            }
        }
        out.leaf = prev.expect("path is not empty");
        out
    }

    /// Keeps only the `limit` most recent revisions of every branch (CouchDB's `revs_limit`).
    /// Returns the removed nodes so the caller can delete their archived bodies.
    pub fn stem(&mut self, limit: u64) -> Vec<RevNode> {
        if limit == 0 || self.nodes.is_empty() {
            return vec![];
        }
        let flags = self.leaf_flags();
        let mut keep = vec![false; self.nodes.len()];
        for (l, _) in flags.iter().enumerate().filter(|(_, &f)| f) {
            let mut cur = Some(l);
            let mut n = 0;
            while let (Some(i), true) = (cur, n < limit) {
                keep[i] = true;
                n += 1;
                cur = self.nodes[i].parent.map(|p| p as usize);
            }
        }
        if keep.iter().all(|&k| k) {
            return vec![];
        }
        let mut remap = vec![u32::MAX; self.nodes.len()];
        let mut next = 0u32;
        for (i, k) in keep.iter().enumerate() {
            if *k {
                remap[i] = next;
                next += 1;
            }
        }
        let old = std::mem::take(&mut self.nodes);
        let mut removed = vec![];
        for (i, mut n) in old.into_iter().enumerate() {
            if keep[i] {
                n.parent = n.parent.and_then(|p| {
                    let r = remap[p as usize];
                    (r != u32::MAX).then_some(r)
                });
                self.nodes.push(n);
            } else {
                removed.push(n);
            }
        }
        removed
    }

    /// The revision ids from node `i` back to its oldest known ancestor, as `_revisions` lists
    /// them (`start` = generation of `i`, `ids` newest first). Stops at a gap in generations.
    pub fn revisions(&self, i: usize, limit: Option<usize>) -> (u64, Vec<String>) {
        let path = self.path(i);
        let mut ids = vec![];
        let mut expect = self.nodes[i].pos;
        for &j in &path {
            if self.nodes[j].pos != expect || limit.is_some_and(|l| ids.len() >= l) {
                break;
            }
            ids.push(self.nodes[j].hash.clone());
            expect = expect.saturating_sub(1);
        }
        (self.nodes[i].pos, ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Rev {
        Rev::parse(s).unwrap()
    }

    fn leaf_revs(t: &RevTree) -> Vec<String> {
        t.leaves()
            .into_iter()
            .map(|i| t.nodes[i].rev().to_string())
            .collect()
    }

    #[test]
    fn linear_edits_and_archive() {
        let mut t = RevTree::default();
        let (a, arch) = t.add_child(None, r("1-a"), false, 1, Body::default());
        assert!(arch.is_none());
        let (b, arch) = t.add_child(Some(a), r("2-b"), false, 2, Body::default());
        assert_eq!(arch.unwrap().0, r("1-a"));
        assert_eq!(t.nodes[a].body, BodyState::Archived);
        assert_eq!(t.winner(), b);
        assert_eq!(t.revisions(b, None), (2, vec!["b".into(), "a".into()]));
    }

    #[test]
    fn winner_rule() {
        let mut t = RevTree::default();
        t.merge_path(&[r("1-a"), r("2-b")], false, 1, Body::default());
        t.merge_path(&[r("1-a"), r("2-c")], false, 2, Body::default());
        assert_eq!(leaf_revs(&t), vec!["2-c", "2-b"]);
        // A longer deleted branch loses to a live one.
        t.merge_path(&[r("1-a"), r("2-b"), r("3-d")], true, 3, Body::default());
        assert_eq!(leaf_revs(&t)[0], "2-c");
        // Generation compares as a number.
        let mut t = RevTree::default();
        t.merge_path(&[r("9-z")], false, 1, Body::default());
        t.merge_path(&[r("10-a")], false, 2, Body::default());
        assert_eq!(t.nodes[t.winner()].rev(), r("10-a"));
        // All deleted: the highest deleted leaf wins.
        let mut t = RevTree::default();
        t.merge_path(&[r("1-a")], true, 1, Body::default());
        t.merge_path(&[r("2-b")], true, 1, Body::default());
        assert_eq!(t.nodes[t.winner()].rev(), r("2-b"));
    }

    #[test]
    fn merge_existing_is_noop_and_links_roots() {
        let mut t = RevTree::default();
        t.merge_path(&[r("3-c")], false, 1, Body::default());
        assert!(t.merge_path(&[r("3-c")], false, 2, Body::default()).existed);
        // Learning ancestors links the old root under them.
        t.merge_path(
            &[r("1-a"), r("2-b"), r("3-c"), r("4-d")],
            false,
            3,
            Body::default(),
        );
        let d = t.find_rev(&r("4-d")).unwrap();
        assert_eq!(t.revisions(d, None).1, vec!["d", "c", "b", "a"]);
        assert_eq!(t.leaves().len(), 1);
    }

    #[test]
    fn stemming_keeps_limit_per_branch() {
        let mut t = RevTree::default();
        let path: Vec<Rev> = (1..=10).map(|i| r(&format!("{i}-h{i}"))).collect();
        t.merge_path(&path, false, 1, Body::default());
        let branch: Vec<Rev> = (1..=3)
            .map(|i| r(&format!("{i}-h{i}")))
            .chain([r("4-x")])
            .collect();
        t.merge_path(&branch, false, 2, Body::default());
        let removed = t.stem(3);
        // Main branch keeps 8,9,10; the short branch keeps 2,3,4-x.
        let mut kept: Vec<String> = t.nodes.iter().map(|n| n.rev().to_string()).collect();
        kept.sort();
        assert_eq!(kept, vec!["10-h10", "2-h2", "3-h3", "4-x", "8-h8", "9-h9"]);
        assert_eq!(removed.len(), 5);
        for n in &t.nodes {
            if let Some(p) = n.parent {
                assert_eq!(t.nodes[p as usize].pos + 1, n.pos);
            }
        }
        assert_eq!(leaf_revs(&t), vec!["10-h10", "4-x"]);
    }
}
