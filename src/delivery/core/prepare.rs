//! HubSpot's event definitions, as `settings.definitions` asks: checked or
//! created at init, and with `"create"` made (or given the properties they
//! lack) before the first events that need them.

use std::cell::RefCell;

use super::auth::send_authorized;
use super::sent::Sent;
use super::{Core, Report, Transport};
use crate::config::settings::DefinitionsMode;
use crate::delivery::definitions::{Expected, Need};
use crate::error::Notice;
use crate::hubspot::api::{Outcome, Request};
use crate::hubspot::definitions::{self as defs, Answer, Definition, PropertyAnswer, PropertySpec};

/// Why definition calls stopped before they were done.
enum Later {
    /// The CRM rate limit: try again in this many milliseconds.
    Limiter(u32),
    /// HubSpot could not answer now; the wait it named, if any.
    Retry(String, Option<u32>),
}

impl Later {
    fn reason(self) -> String {
        match self {
            Later::Retry(reason, _) => reason,
            Later::Limiter(_) => "the CRM rate limit (settings.rateLimit) is used up".into(),
        }
    }
}

/// One call to the definitions API, through the CRM rate limiter. A 403
/// turns definitions off (with one warning).
async fn definition_call<T: serde::de::DeserializeOwned>(
    core: &RefCell<Core>,
    transport: &impl Transport,
    request: &Request,
    report: &mut Report,
) -> Result<Answer<T>, Later> {
    let now = transport.now_ms();
    core.borrow_mut().take_crm(now).map_err(Later::Limiter)?;
    let sent = Sent::from(send_authorized(core, transport, request, report).await);
    {
        let mut core = core.borrow_mut();
        core.limiter.observe(&sent.rate, transport.now_ms());
        // stats().rateLimited counts every 429, not only those of sends.
        if let Some(policy) = &sent.policy {
            core.stats.rate_limit(policy);
        }
    }
    let answer = match sent.outcome {
        // No answer at all (network, no token).
        Outcome::Retryable(reason) if sent.status == 0 => Err(reason),
        _ => defs::read_answer(sent.status, &sent.body),
    }
    .map_err(|reason| Later::Retry(reason, sent.wait))?;
    if let Answer::Forbidden = answer {
        report
            .notices
            .extend(core.borrow_mut().definitions.forbid());
    }
    Ok(answer)
}

/// Makes what `need` asks for: the definition (created; read when another
/// collector made it first) and the properties it lacks. `Ok` also when
/// HubSpot refused for good (logged once; the events go as they are).
async fn ensure(
    core: &RefCell<Core>,
    transport: &impl Transport,
    need: &Need,
    report: &mut Report,
) -> Result<(), Later> {
    let name = need.name.as_str();
    if core.borrow().definitions.is_unchecked(name) {
        let expected = core.borrow().rule_definitions();
        let properties = expected.iter().find(|(n, _)| n == name).map(|(_, p)| p);
        return check(
            core,
            transport,
            name,
            properties.unwrap_or(&Vec::new()),
            report,
        )
        .await;
    }
    // A 403 on an earlier call turned definitions off.
    if core.borrow().definitions.mode != DefinitionsMode::Create {
        return Ok(());
    }
    if !core.borrow().definitions.is_known(name) {
        let request = defs::create(name, &need.properties);
        let mut answer = definition_call::<Definition>(core, transport, &request, report).await?;
        if let Answer::Done(created) = &answer {
            let mut core = core.borrow_mut();
            let count = need.properties.len();
            core.stats.definitions_created += 1;
            core.stats.properties_created += count as u64;
            report.notices.push(Notice::info(
                name,
                format!(
                    "event definition {:?} created in HubSpot with {count} properties",
                    created.fully_qualified_name
                ),
            ));
        } else if let Answer::Exists = answer {
            // Another collector won the race: what it made is read once.
            answer = definition_call(core, transport, &defs::read(name), report).await?;
        }
        let mut core = core.borrow_mut();
        let reason = match answer {
            Answer::Done(definition) => {
                core.definitions.learn(&definition, &mut report.notices);
                None
            }
            Answer::Forbidden => return Ok(()),
            Answer::Failed(reason) => Some(reason),
            Answer::Exists | Answer::Missing => Some("HubSpot neither made nor found it".into()),
        };
        if let Some(reason) = reason {
            core.definitions.refuse(name, None);
            report.notices.push(Notice::error(name, format!("event definition {name:?} could not be created in HubSpot, so its events are sent as they are: {reason}")));
            return Ok(());
        }
    }
    for spec in &need.properties {
        if core.borrow().definitions.settled(name, &spec.name) {
            continue;
        }
        let request = defs::create_property(name, spec);
        let answer = definition_call::<PropertyAnswer>(core, transport, &request, report).await?;
        let reason = match answer {
            Answer::Done(created) => {
                let mut core = core.borrow_mut();
                core.stats.properties_created += 1;
                let spec = created.spec().unwrap_or_else(|| spec.clone());
                core.definitions.add_property(name, spec);
                continue;
            }
            Answer::Exists => {
                // Another collector added it first, perhaps with another
                // type: values must take HubSpot's, so it is read.
                let read = definition_call(core, transport, &defs::read(name), report).await?;
                let mut core = core.borrow_mut();
                if let Answer::Done(definition) = read {
                    core.definitions.learn(&definition, &mut report.notices);
                }
                if !core.definitions.settled(name, &spec.name) {
                    core.definitions.add_property(name, spec.clone());
                }
                continue;
            }
            Answer::Forbidden => return Ok(()),
            Answer::Missing => "the definition does not exist".to_string(),
            Answer::Failed(reason) => reason,
        };
        let mut core = core.borrow_mut();
        core.definitions.refuse(name, Some(&spec.name));
        report.notices.push(Notice::error(name, format!("property {:?} could not be created on the HubSpot event definition {name:?}, so it is left out of its events: {reason}", spec.name)));
    }
    Ok(())
}

/// Prepares the definitions some waiting events need; their events wait
/// meanwhile. False when that has to be tried again later (`retry_in`
/// says when; the events stay queued).
pub(super) async fn prepare_needs(
    core: &RefCell<Core>,
    transport: &impl Transport,
    needs: Vec<Need>,
    report: &mut Report,
) -> bool {
    let names = || needs.iter().map(|n| &n.name);
    core.borrow_mut().definitions.set_pending(names(), true);
    let mut result = Ok(());
    for need in &needs {
        result = ensure(core, transport, need, report).await;
        if result.is_err() {
            break;
        }
    }
    let mut core = core.borrow_mut();
    core.definitions.set_pending(names(), false);
    let delay = match result {
        Ok(()) => return true,
        Err(Later::Limiter(ms)) => ms,
        Err(Later::Retry(reason, wait)) => {
            let delay = core.backoff.next_delay(wait);
            report.notices.push(Notice::warn(
                "",
                format!("events wait for their HubSpot event definitions; next try in {delay} ms: {reason}"),
            ));
            delay
        }
    };
    let held = transport.now_ms() + f64::from(delay);
    core.events_held_until = core.events_held_until.max(held);
    report.retry_after(delay);
    false
}

/// At init: `"check"` reads each definition the rules name once and logs
/// what is missing or typed differently, with the fix; `"create"` makes
/// them (with the properties whose types are known now). Each definition
/// is tried once, whatever became of the others: one HubSpot could not
/// make now is made before its first event instead. Events of those names
/// wait meanwhile.
pub async fn prepare(core: &RefCell<Core>, transport: &impl Transport, report: &mut Report) {
    let mode = core.borrow().definitions.mode;
    let targets = core.borrow().rule_definitions();
    let names = || targets.iter().map(|(name, _)| name);
    core.borrow_mut().definitions.set_pending(names(), true);
    for (name, properties) in &targets {
        if core.borrow().definitions.mode == DefinitionsMode::Off {
            break;
        }
        if mode == DefinitionsMode::Create {
            let need = Need {
                name: name.clone(),
                properties: (properties.iter())
                    .filter_map(|(p, t)| t.map(|t| PropertySpec::new(p, t)))
                    .collect(),
            };
            if let Err(later) = ensure(core, transport, &need, report).await {
                let reason = later.reason();
                report.notices.push(Notice::warn(name, format!("event definition {name:?} is not prepared yet; it is made before its first event is sent: {reason}")));
            }
            continue;
        }
        if let Err(later) = check(core, transport, name, properties, report).await {
            let reason = later.reason();
            let definitions = &mut core.borrow_mut().definitions;
            if definitions.prefix_known() {
                definitions.check(name, Err(reason), properties, &mut report.notices);
            } else {
                // Without the prefix its events cannot be named: they wait
                // for the read, tried again before the first of them.
                definitions.check_later(name, true);
                report.notices.push(Notice::warn(name, format!("event definition {name:?} could not be checked in HubSpot yet; it is read again before its first event is sent, as the event-name prefix may come from it: {reason}")));
            }
        }
    }
    core.borrow_mut().definitions.set_pending(names(), false);
}

/// `"check"`: reads the definition `name` and says what it lacks of the
/// `properties` the rules expect, learning it. `Err` when HubSpot could
/// not answer now.
async fn check(
    core: &RefCell<Core>,
    transport: &impl Transport,
    name: &str,
    properties: &Expected,
    report: &mut Report,
) -> Result<(), Later> {
    let answer = definition_call(core, transport, &defs::read(name), report).await?;
    let core = &mut *core.borrow_mut();
    core.definitions.check_later(name, false);
    let found = match answer {
        Answer::Done(found) => Ok(Some(found)),
        Answer::Missing => Ok(None),
        Answer::Failed(reason) => Err(reason),
        Answer::Exists | Answer::Forbidden => return Ok(()),
    };
    core.definitions
        .check(name, found, properties, &mut report.notices);
    Ok(())
}
