//! The desk's configuration as the store keeps it: JSON documents in `settings`, read
//! inside the transaction that acts on them, so every node decides with the same rules.

use recourse_domain::ladder::EscalationRules;
use recourse_domain::sla::CalendarSpec;
use recourse_domain::template::Template;
use recourse_domain::{Calendar, Ladder, SlaPolicy};

use crate::{Result, StoreError};

/// The keys of `settings`; templates are `template:<key>`.
pub mod keys {
    pub const LADDER: &str = "ladder";
    pub const SLA_POLICY: &str = "sla_policy";
    pub const CALENDAR: &str = "calendar";
    pub const ESCALATION_RULES: &str = "escalation_rules";
    pub const TEMPLATE_PREFIX: &str = "template:";
}

/// Everything a ticket-changing transaction needs to know about how the desk works.
#[derive(Debug, Clone)]
pub struct DeskConfig {
    pub ladder: Ladder,
    pub sla: SlaPolicy,
    pub calendar_spec: CalendarSpec,
    pub calendar: Calendar,
    pub rules: EscalationRules,
}

fn parse<T: serde::de::DeserializeOwned>(key: &str, value: &str) -> Result<T> {
    serde_json::from_str(value).map_err(|e| StoreError::Corrupt(format!("setting {key}: {e}")))
}

/// The last configuration built, with the rows it came from. Rows change only when an
/// admin edits a setting, so most transactions reuse the parsed configuration instead
/// of parsing JSON and looking up a time zone on every write.
static LAST: std::sync::Mutex<Option<(SettingRows, DeskConfig)>> = std::sync::Mutex::new(None);

/// `(key, value)` rows of `settings`, in key order.
type SettingRows = Vec<(String, String)>;

impl DeskConfig {
    /// [`DeskConfig::from_settings`], reusing the last result when the rows are the same.
    pub fn from_settings_cached(rows: &[(String, String)]) -> Result<DeskConfig> {
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seen, cfg)) = last.as_ref()
            && seen.as_slice() == rows
        {
            return Ok(cfg.clone());
        }
        let cfg = DeskConfig::from_settings(rows)?;
        *last = Some((rows.to_vec(), cfg.clone()));
        Ok(cfg)
    }

    /// Builds the configuration from stored rows; anything not stored takes its default.
    pub fn from_settings(rows: &[(String, String)]) -> Result<DeskConfig> {
        let get = |k: &str| {
            rows.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let ladder = get(keys::LADDER)
            .map(|v| parse(keys::LADDER, v))
            .transpose()?;
        let sla = get(keys::SLA_POLICY)
            .map(|v| parse(keys::SLA_POLICY, v))
            .transpose()?;
        let calendar_spec: Option<CalendarSpec> = get(keys::CALENDAR)
            .map(|v| parse(keys::CALENDAR, v))
            .transpose()?;
        let rules = get(keys::ESCALATION_RULES)
            .map(|v| parse(keys::ESCALATION_RULES, v))
            .transpose()?;
        let calendar_spec = calendar_spec.unwrap_or_default();
        let calendar = Calendar::parse(&calendar_spec)
            .map_err(|e| StoreError::Corrupt(format!("setting calendar: {e}")))?;
        Ok(DeskConfig {
            ladder: ladder.unwrap_or_default(),
            sla: sla.unwrap_or_default(),
            calendar_spec,
            calendar,
            rules: rules.unwrap_or_default(),
        })
    }
}

/// A stored template, or the default one when none is stored.
pub fn template_from(key: &str, stored: Option<&str>) -> Result<Template> {
    match stored {
        Some(body) => Template::parse(key, body)
            .map_err(|e| StoreError::Corrupt(format!("template {key}: {e}"))),
        None => Template::default_for(key).ok_or(StoreError::NotFound("template")),
    }
}
