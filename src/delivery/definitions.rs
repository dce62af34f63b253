//! What this destination knows about HubSpot's event definitions: the
//! definitions read or created (their fully qualified names and property
//! types), the names being prepared (events needing them wait), the ones
//! that could not be made, and the prefix. `core` makes the calls; this
//! decides which are needed and puts events in the form their definition
//! takes. With `definitions: "off"` nothing is ever known, so the same code
//! only names the events.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::names;
use crate::config::settings::{DefinitionsMode, Settings};
use crate::config::types::PropertyType;
use crate::delivery::stats::Stats;
use crate::error::Notice;
use crate::hubspot::definitions::{self, Definition, PropertySpec};
use crate::hubspot::plan::EventInput;

/// A definition as HubSpot has it.
#[derive(Debug)]
struct Known {
    fqn: String,
    properties: Vec<PropertySpec>,
}

/// The properties of a definition known before any event, with the type
/// stated or given, if any.
pub type Expected = Vec<(String, Option<PropertyType>)>;

/// Definition calls an event needs before it is sent: create the
/// definition (with `properties`), or add the `properties` it lacks.
#[derive(Clone, Debug, PartialEq)]
pub struct Need {
    pub name: String,
    pub properties: Vec<PropertySpec>,
}

#[derive(Debug, PartialEq)]
pub enum Work {
    /// The events can go.
    Ready,
    /// A definition they need is being prepared elsewhere: whoever does it
    /// sends them after.
    Busy,
    Prepare(Vec<Need>),
}

#[derive(Debug)]
pub struct Definitions {
    pub mode: DefinitionsMode,
    known: BTreeMap<String, Known>,
    /// Names being prepared: their events wait.
    pending: BTreeSet<String>,
    /// Definitions HubSpot refused to create: their events go as they are.
    refused: BTreeSet<String>,
    /// `"check"`: definitions whose read failed for now; read again before
    /// their events go (the prefix may have to be learned from them).
    unchecked: BTreeSet<String>,
    /// Properties HubSpot refused to create, by definition: left out of
    /// its events.
    refused_properties: BTreeMap<String, BTreeSet<String>>,
    /// `pe{HubID}_`, from the settings or learned; empty while unknown.
    prefix: String,
    /// The prefix is the settings' and no warning said HubSpot's differs.
    compare_prefix: bool,
    /// HubSpot's prefix differs from the settings', with which events are
    /// named when planned: they are named again with HubSpot's.
    requalify: bool,
}

impl Definitions {
    pub fn new(settings: &Settings) -> Definitions {
        Definitions {
            mode: settings.definitions,
            known: BTreeMap::new(),
            pending: BTreeSet::new(),
            refused: BTreeSet::new(),
            unchecked: BTreeSet::new(),
            refused_properties: BTreeMap::new(),
            prefix: settings.event_name_prefix.clone(),
            compare_prefix: !settings.event_name_prefix.is_empty(),
            requalify: false,
        }
    }

    pub fn is_known(&self, name: &str) -> bool {
        self.known.contains_key(name)
    }

    /// Whether nothing more is to be done for this property: definitions
    /// are not created, the known definition has it, or HubSpot refused it
    /// (or the definition).
    pub fn settled(&self, name: &str, property: &str) -> bool {
        self.mode != DefinitionsMode::Create
            || self.refused.contains(name)
            || (self.known.get(name))
                .is_some_and(|k| k.properties.iter().any(|p| p.name == property))
            || self.is_refused(name, property)
    }

    fn is_refused(&self, name: &str, property: &str) -> bool {
        (self.refused_properties.get(name)).is_some_and(|p| p.contains(property))
    }

    /// What must happen before `inputs` can be sent. Only `"create"`
    /// prepares anything here; `"check"` reads at init, and events wait
    /// while that read is under way.
    pub fn work<'a>(&self, inputs: impl Iterator<Item = &'a EventInput>) -> Work {
        let check_again = !self.unchecked.is_empty();
        if self.pending.is_empty() && !check_again && self.mode != DefinitionsMode::Create {
            return Work::Ready;
        }
        let mut needs: Vec<Need> = Vec::new();
        for input in inputs {
            let name = &input.name;
            if self.pending.contains(name) {
                return Work::Busy;
            }
            let read = self.unchecked.contains(name);
            if !read && (self.mode != DefinitionsMode::Create || self.refused.contains(name)) {
                continue;
            }
            if !needs.iter().any(|n| n.name == *name) {
                needs.push(Need {
                    name: name.clone(),
                    properties: Vec::new(),
                });
            }
            if read {
                continue;
            }
            let need = needs.iter_mut().find(|n| n.name == *name).expect("added");
            for ((property, _), kind) in input.properties.iter().zip(&input.types) {
                if !self.settled(name, property)
                    && !need.properties.iter().any(|p| p.name == **property)
                {
                    need.properties.push(PropertySpec::new(property, *kind));
                }
            }
        }
        needs.retain(|n| !self.is_known(&n.name) || !n.properties.is_empty());
        if needs.is_empty() {
            Work::Ready
        } else {
            Work::Prepare(needs)
        }
    }

    /// Events of these names wait while `pending` is true.
    pub fn set_pending<'a>(&mut self, names: impl IntoIterator<Item = &'a String>, pending: bool) {
        for name in names {
            if pending {
                self.pending.insert(name.clone());
            } else {
                self.pending.remove(name);
            }
        }
    }

    /// Keeps a definition HubSpot answered with, learning the prefix.
    pub fn learn(&mut self, definition: &Definition, notices: &mut Vec<Notice>) {
        if let Some(prefix) = definition.prefix().filter(|p| names::is_valid_prefix(p)) {
            if self.prefix.is_empty() {
                self.prefix = prefix.to_string();
            } else if self.prefix != prefix && self.compare_prefix {
                self.compare_prefix = false;
                // One token, one hub: the settings' prefix is wrong for
                // every event, not only for this definition's.
                self.requalify = true;
                notices.push(Notice::warn(
                    "",
                    format!(
                        "settings.eventNamePrefix is {:?}, but HubSpot names the definition {:?} {:?}: its events are sent under HubSpot's name. Fix: set settings.eventNamePrefix to {prefix:?}, or leave it out",
                        self.prefix, definition.name, definition.fully_qualified_name
                    ),
                ));
                self.prefix = prefix.to_string();
            }
        }
        self.known.insert(
            definition.name.clone(),
            Known {
                fqn: definition.fully_qualified_name.clone(),
                properties: definition.specs(),
            },
        );
    }

    /// A property HubSpot created, or that another collector had already
    /// created (taken to have the type this one asked for).
    pub fn add_property(&mut self, name: &str, property: PropertySpec) {
        if let Some(known) = self.known.get_mut(name) {
            known.properties.retain(|p| p.name != property.name);
            known.properties.push(property);
        }
    }

    /// HubSpot refused to create the definition, or with `Some` one of its
    /// properties.
    pub fn refuse(&mut self, name: &str, property: Option<&str>) {
        match property {
            None => self.refused.insert(name.to_string()),
            Some(p) => {
                (self.refused_properties.entry(name.to_string()).or_default()).insert(p.to_string())
            }
        };
    }

    /// `"check"`: whether the definition `name` is read again before its
    /// events go (its read failed for now), or not (it was answered).
    pub fn check_later(&mut self, name: &str, later: bool) {
        if later {
            self.unchecked.insert(name.to_string());
        } else {
            self.unchecked.remove(name);
        }
    }

    /// Whether the `pe{HubID}_` prefix is known (set, or learned).
    pub fn prefix_known(&self) -> bool {
        !self.prefix.is_empty()
    }

    pub fn is_unchecked(&self, name: &str) -> bool {
        self.unchecked.contains(name)
    }

    /// The token lacks the definitions scope: one warning, then as `"off"`.
    pub fn forbid(&mut self) -> Option<Notice> {
        self.unchecked.clear();
        let was = std::mem::replace(&mut self.mode, DefinitionsMode::Off);
        (was != DefinitionsMode::Off).then(|| Notice::warn(
            "",
            format!(
                "HubSpot refused the event definitions API (403): the access token lacks the scope {}, so definitions are not {}; events are sent as they are. Fix: add the scope to the private app, or set settings.definitions to \"off\"",
                definitions::SCOPE,
                if was == DefinitionsMode::Create { "created" } else { "checked" }
            ),
        ))
    }

    /// What `"check"` says about a definition the rules name (`found`:
    /// HubSpot's answer, `None` when it is missing, `Err` when it could not
    /// be read), which it learns: one line per missing definition or
    /// property and per stated type HubSpot does not have, each with its
    /// fix.
    pub fn check(
        &mut self,
        name: &str,
        found: Result<Option<Definition>, String>,
        properties: &Expected,
        notices: &mut Vec<Notice>,
    ) {
        let typed = |p: &str, t: Option<PropertyType>| {
            format!(
                "{p} ({})",
                t.map_or("type from its first value", PropertyType::as_str)
            )
        };
        let messages: Vec<String> = match found {
            Ok(Some(definition)) => {
                self.learn(&definition, notices);
                // What HubSpot answered, whatever name it gave.
                let specs = definition.specs();
                let check = |(property, stated): &(String, Option<PropertyType>)| {
                    match specs.iter().find(|s| s.name == *property) {
                        None => Some(format!("property {property:?} does not exist on the HubSpot event definition {name:?}, so events carrying it are rejected. Fix: add the property {} to {name}, or set settings.definitions to \"create\"", typed(property, *stated))),
                        Some(spec) if stated.is_some_and(|t| t != spec.kind) => {
                            let (has, says) = (spec.kind.as_str(), stated.map_or("", PropertyType::as_str));
                            Some(format!("property {property:?} of the HubSpot event definition {name:?} is {has} in HubSpot, but propertyTypes says {says}: values are sent as {has} and left out where they cannot be. Fix: set propertyTypes.{property} to {has:?} (HubSpot cannot change a property's type)"))
                        }
                        Some(_) => None,
                    }
                };
                properties.iter().filter_map(check).collect()
            }
            Ok(None) => {
                let list: Vec<String> = properties.iter().map(|(p, t)| typed(p, *t)).collect();
                let with = match list.is_empty() {
                    true => String::new(),
                    false => format!(" with the properties {}", list.join(", ")),
                };
                vec![format!("event definition {name:?} does not exist in HubSpot, so its events are rejected. Fix: create it (Data Management > Custom Events, internal name {name}){with}, or set settings.definitions to \"create\"")]
            }
            Err(reason) => {
                vec![format!(
                    "event definition {name:?} could not be checked in HubSpot: {reason}"
                )]
            }
        };
        notices.extend(messages.into_iter().map(|m| Notice::warn(name, m)));
    }

    /// Puts an event in the form its definition takes, just before it is
    /// sent: HubSpot's fully qualified name, and each value as its
    /// property's type wants it. A value that cannot be converted (or, with
    /// `"create"`, a property HubSpot refused) is left out with a warning;
    /// the event still goes. `Err` when the event cannot be named at all.
    pub fn shape(
        &self,
        input: &mut EventInput,
        notices: &mut Vec<Notice>,
        stats: &mut Stats,
    ) -> Result<(), String> {
        let Some(known) = self.known.get(&input.name) else {
            if input.event_name.is_empty() || self.requalify {
                if self.prefix.is_empty() {
                    // Settings with "off" have a prefix: "off" here means
                    // HubSpot refused the definitions API (403).
                    let or = match self.mode {
                        DefinitionsMode::Off => format!("give the token the scope {} so definitions can learn it", definitions::SCOPE),
                        _ => "set settings.definitions to \"create\" (\"check\" learns it only from a definition a mapping rule names that exists in HubSpot)".to_string(),
                    };
                    return Err(format!("the event-name prefix is not known, so event {:?} cannot be named: set settings.eventNamePrefix to pe{{HubID}}_, or {or}", input.name));
                }
                input.event_name = names::qualify(&self.prefix, &input.name);
            }
            return Ok(());
        };
        input.event_name.clone_from(&known.fqn);
        if input.types.len() != input.properties.len() {
            return Ok(());
        }
        let mut types = std::mem::take(&mut input.types).into_iter();
        let (name, kept) = (&input.name, &mut input.types);
        input.properties.retain_mut(|(property, value)| {
            let kind = types.next().expect("one type per property");
            let spec = known.properties.iter().find(|p| p.name == **property);
            let left_out = match spec {
                Some(spec) => match definitions::convert(value, kind, spec.kind, &spec.options) {
                    Some(converted) => {
                        *value = converted;
                        None
                    }
                    None => {
                        stats.values_left_out += 1;
                        let options = match spec.options.is_empty() {
                            true => String::new(),
                            false => format!(" with the options {}", spec.options.join(", ")),
                        };
                        let (is, wants) = (kind.as_str(), spec.kind.as_str());
                        // With a stated type that matches HubSpot's, "its value is
                        // number but HubSpot's property is number" would say nothing.
                        Some(match kind == spec.kind {
                            true => format!("its value does not read as a {wants}, the type of HubSpot's property{options}"),
                            false => format!("its value is {is} but HubSpot's property is {wants}{options}"),
                        })
                    }
                },
                None if self.is_refused(name, property) => Some(
                    "HubSpot did not create it on the definition (see the error logged then)"
                        .to_string(),
                ),
                None => None,
            };
            if let Some(why) = &left_out {
                notices.push(Notice::warn(
                    name,
                    format!(
                        "property {:?} left out of event {:?}: {why}",
                        &**property, known.fqn
                    ),
                ));
            } else {
                kept.push(kind);
            }
            left_out.is_none()
        });
        Ok(())
    }
}
