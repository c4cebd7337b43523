//! Documents out of an account's reach get one answer, whether they exist or not.
//!
//! A refusal that differs between an existing document and a missing one turns the sync
//! endpoint into an oracle: probing `progress:<user>` would tell which user ids exist, and a
//! case refused with "the report is in district X" would tell where a report the caller may
//! not read was made. So before the server's copy is even loaded, another account's training
//! progress, and the case of a report this account may not read (or that is not on the
//! server), are refused with a fixed reason and no sync message.

use waystation_core::sync::policy::{self, Account, DocRef};

use crate::error::ApiError;
use crate::store::StoreTx;

/// The refusal for another account's training progress, existing or not.
pub const PROGRESS_OF_ANOTHER: &str = "training progress is private to its owner";

/// The refusal for the case of a report that is not on the server, or that this account may
/// not read: the same words either way, and no district.
pub const CASE_OUT_OF_REACH: &str = "the report this case follows is not on the server yet, or \
     is outside this account's areas; sync the report first";

/// The fixed refusal for `doc` when it is out of `account`'s reach, `None` otherwise (the
/// usual checks then decide).
pub fn out_of_reach(
    tx: &dyn StoreTx,
    account: &Account,
    doc: &DocRef,
) -> Result<Option<&'static str>, ApiError> {
    match doc {
        DocRef::Progress(user) if *user != account.user => Ok(Some(PROGRESS_OF_ANOTHER)),
        DocRef::Case(id) => {
            let readable = tx.doc_access(&id.doc_id())?.is_some_and(|a| {
                policy::may_read(account, &a.kind, &a.owner, a.district.as_deref())
            });
            Ok((!readable).then_some(CASE_OUT_OF_REACH))
        }
        _ => Ok(None),
    }
}
