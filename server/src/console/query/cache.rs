//! Decoded reports and folded cases, kept by document id and heads.
//!
//! Every console page reads every case its account may see; loading each Automerge document
//! on every page view would cost the server as much as a device's first sync. A document's
//! heads name its content exactly (Automerge change hashes), so a decoded copy kept under
//! (id, heads) is never stale: a new change gives new heads and a miss. This is derived
//! data, not state about clients: any instance holds its own, and losing it only costs time.
//! Access is decided before the cache is asked, on every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use waystation_core::reports::{CaseView, Report};

use crate::error::ApiError;

/// Entries kept per map before it is emptied (a simple bound; a city's open cases fit).
const MAX_ENTRIES: usize = 50_000;

type Map<T> = Mutex<HashMap<String, (Vec<u8>, T)>>;

fn reports() -> &'static Map<Option<Arc<Report>>> {
    static M: OnceLock<Map<Option<Arc<Report>>>> = OnceLock::new();
    M.get_or_init(Default::default)
}

fn cases() -> &'static Map<CaseView> {
    static M: OnceLock<Map<CaseView>> = OnceLock::new();
    M.get_or_init(Default::default)
}

fn get<T: Clone>(map: &Map<T>, id: &str, key: &[u8]) -> Option<T> {
    let m = map.lock().unwrap_or_else(|p| p.into_inner());
    m.get(id).filter(|(k, _)| k == key).map(|(_, v)| v.clone())
}

fn put<T>(map: &Map<T>, id: &str, key: Vec<u8>, value: T) {
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    if m.len() >= MAX_ENTRIES && !m.contains_key(id) {
        m.clear();
    }
    m.insert(id.to_string(), (key, value));
}

/// The report `doc_id` at `heads`, decoded by `load` on a miss.
pub(super) fn report(
    doc_id: &str,
    heads: &[u8],
    load: impl FnOnce() -> Result<Option<Report>, ApiError>,
) -> Result<Option<Arc<Report>>, ApiError> {
    if let Some(hit) = get(reports(), doc_id, heads) {
        return Ok(hit);
    }
    let decoded = load()?.map(Arc::new);
    put(reports(), doc_id, heads.to_vec(), decoded.clone());
    Ok(decoded)
}

/// The case `doc_id` at `heads`, of the report at `report_heads` (the fold reads the report's
/// category), folded by `load` on a miss.
pub(super) fn case(
    doc_id: &str,
    heads: &[u8],
    report_heads: &[u8],
    load: impl FnOnce() -> Result<CaseView, ApiError>,
) -> Result<CaseView, ApiError> {
    let key = [heads, report_heads].concat();
    if let Some(hit) = get(cases(), doc_id, &key) {
        return Ok(hit);
    }
    let view = load()?;
    put(cases(), doc_id, key, view.clone());
    Ok(view)
}
