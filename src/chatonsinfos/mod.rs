//! ChatonsInfos (StatoolInfos' `.properties` files that stats.chatons.org crawls): rules without
//! I/O. What an organisation and its services say, written as the spec's files and read back from
//! files others wrote, with each refusal naming its line. `properties` is the file format itself.

pub mod properties;

pub use properties::{Entry, InfoError, Properties, Writer, MAX_BYTES};

use crate::bulletin::vocab::{Registration, ServiceStatus};
use crate::refusal::Kind;
use chrono::NaiveDateTime;

/// The protocol version written in `file.protocol`.
pub const PROTOCOL: &str = "ChatonsInfos-0.5";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileClass {
    Federation,
    Organization,
    Service,
    Device,
}

impl FileClass {
    pub fn name(self) -> &'static str {
        match self {
            FileClass::Federation => "Federation",
            FileClass::Organization => "Organization",
            FileClass::Service => "Service",
            FileClass::Device => "Device",
        }
    }

    /// Real files write it in any case (`organization`, `Service`).
    pub fn parse(value: &str) -> Option<FileClass> {
        [FileClass::Federation, FileClass::Organization, FileClass::Service, FileClass::Device]
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(value.trim()))
    }
}

/// The `[File]` section: who wrote the file, and when (UTC, `ISO_DATETIME` without a zone).
#[derive(Debug, Clone)]
pub struct FileHeader {
    pub generated_at: NaiveDateTime,
    pub generator: String,
}

/// What Ronron knows of an organisation (its profile), as ChatonsInfos names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organization {
    pub name: String,
    pub description: Option<String>,
    pub website: Option<String>,
    pub logo: Option<String>,
    pub contact_url: Option<String>,
    pub contact_email: Option<String>,
    /// `organization.type`, lowercase (`association`, `cooperative`…).
    pub kind: Option<String>,
    /// `organization.country.code`, ISO 3166-1 alpha-2.
    pub country_code: Option<String>,
}

/// What Ronron knows of a service (its catalogue entry and derived state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    pub name: String,
    pub description: Option<String>,
    pub website: Option<String>,
    pub software: Option<String>,
    pub registration: Option<Registration>,
    /// Derived from the service changes posted: written, never read back.
    pub status: Option<ServiceStatus>,
}

/// The values `organization.type` takes in ChatonsInfos (lowercased).
const ORGANIZATION_TYPES: &[&str] =
    &["association", "informal", "cooperative", "microcompany", "company", "individual", "other"];

/// A structure type Ronron holds, as ChatonsInfos spells it, when it is one of the spec's.
pub fn organization_type(structure: &str) -> Option<String> {
    let lower = structure.trim().to_lowercase();
    ORGANIZATION_TYPES.contains(&lower.as_str()).then(|| lower.to_uppercase())
}

/// `service.status.level`: OK, WARNING, ALERT, ERROR, OVER (ended) or VOID.
pub fn status_level(status: ServiceStatus) -> Option<&'static str> {
    Some(match status {
        ServiceStatus::Operational => "OK",
        ServiceStatus::UnderMaintenance | ServiceStatus::Degraded => "WARNING",
        ServiceStatus::PartialOutage => "ALERT",
        ServiceStatus::MajorOutage => "ERROR",
        ServiceStatus::Closed => "OVER",
        ServiceStatus::Unknown => return None,
    })
}

/// `(service.registration, service.registration.load)` for a registration state. `closed` says the
/// service is full; who could register before is not known, so it is left out.
pub fn registration_fields(registration: Registration) -> (Option<&'static str>, Option<&'static str>) {
    match registration {
        Registration::Open => (Some("Free"), Some("OPEN")),
        Registration::OnRequest => (Some("Member"), Some("OPEN")),
        Registration::Closed => (None, Some("FULL")),
        Registration::Unknown => (None, None),
    }
}

/// The registration state a service file says, when it says one.
fn registration_of(props: &Properties) -> Result<Option<Registration>, InfoError> {
    if let Some(entry) = props.entry("service.registration.load").filter(|e| !e.value.trim().is_empty()) {
        match entry.value.trim().to_ascii_uppercase().as_str() {
            "FULL" => return Ok(Some(Registration::Closed)),
            "OPEN" => {}
            other => return Err(InfoError::line(entry.line, Kind::InfoRegistrationLoad, &[("value", other)])),
        }
    }
    let Some(entry) = props.entry("service.registration").filter(|e| !e.value.trim().is_empty()) else {
        return Ok(props.get("service.registration.load").map(|_| Registration::Open));
    };
    let mut best = None;
    for value in entry.value.split(';').map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty()) {
        let this = match value.as_str() {
            "none" | "free" => Registration::Open,
            "member" | "client" => Registration::OnRequest,
            other => return Err(InfoError::line(entry.line, Kind::InfoRegistration, &[("value", other)])),
        };
        if best != Some(Registration::Open) {
            best = Some(this);
        }
    }
    Ok(best)
}

fn header(w: &mut Writer, class: FileClass, header: &FileHeader) {
    w.comment(&format!(
        "{} file ({PROTOCOL}), generated by {}: edit the data in Ronron, not here.",
        class.name(),
        header.generator
    ));
    w.section("File")
        .entry("file.class", class.name())
        .entry("file.protocol", PROTOCOL)
        .entry("file.datetime", &header.generated_at.format("%Y-%m-%dT%H:%M:%S").to_string())
        .entry("file.generator", &header.generator);
}

/// The organisation file, with `subs.<id>` for each service file.
pub fn organization_file(head: &FileHeader, org: &Organization, subs: &[(String, String)]) -> String {
    let mut w = Writer::new();
    header(&mut w, FileClass::Organization, head);
    w.section("Organization")
        .entry("organization.name", &org.name)
        .optional("organization.description", org.description.as_deref())
        .optional("organization.type", org.kind.as_deref().and_then(organization_type).as_deref())
        .optional("organization.website", org.website.as_deref())
        .optional("organization.logo", org.logo.as_deref())
        .optional("organization.contact.url", org.contact_url.as_deref())
        .optional("organization.contact.email", org.contact_email.as_deref())
        .optional("organization.country.code", org.country_code.as_deref());
    subs_section(&mut w, subs);
    w.finish()
}

fn subs_section(w: &mut Writer, subs: &[(String, String)]) {
    if !subs.is_empty() {
        w.section("Subs");
        for (id, url) in subs {
            w.entry(&format!("subs.{id}"), url);
        }
    }
}

/// One service's file.
pub fn service_file(head: &FileHeader, service: &ServiceInfo) -> String {
    let (registration, load) = service.registration.map(registration_fields).unwrap_or((None, None));
    let mut w = Writer::new();
    header(&mut w, FileClass::Service, head);
    w.section("Service")
        .entry("service.name", &service.name)
        .optional("service.description", service.description.as_deref())
        .optional("service.website", service.website.as_deref())
        .optional("service.status.level", service.status.and_then(status_level))
        .optional("service.registration", registration)
        .optional("service.registration.load", load);
    if service.software.is_some() {
        w.section("Software").optional("software.name", service.software.as_deref());
    }
    w.finish()
}

/// What a collective says of itself in its federation file.
#[derive(Debug, Clone, Default)]
pub struct Federation {
    pub name: String,
    pub description: String,
    pub website: String,
    pub contact_email: String,
}

/// The federation file the crawler starts from: `subs.<id>` for each member's organisation file,
/// the id made from the member's name.
pub fn federation_file(head: &FileHeader, federation: &Federation, members: &[(String, String)]) -> String {
    let mut w = Writer::new();
    header(&mut w, FileClass::Federation, head);
    w.section("Federation")
        .entry("federation.name", &federation.name)
        .optional("federation.description", Some(&federation.description))
        .optional("federation.website", Some(&federation.website))
        .optional("federation.contact.email", Some(&federation.contact_email));
    let mut subs: Vec<(String, String)> = Vec::new();
    for (name, url) in members {
        let base = sub_id(name);
        let mut id = base.clone();
        let mut n = 2;
        while subs.iter().any(|(taken, _)| *taken == id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        subs.push((id, url.clone()));
    }
    subs_section(&mut w, &subs);
    w.finish()
}

/// A `subs.<id>` (or a slug) from a name: lowercase ASCII letters, digits and `-`.
pub fn sub_id(name: &str) -> String {
    let mut id = String::new();
    for c in name.chars().flat_map(|c| c.to_lowercase()) {
        let c = match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    let id = id.trim_end_matches('-').chars().take(64).collect::<String>();
    if id.is_empty() {
        "member".into()
    } else {
        id
    }
}

// ---------------------------------------------------------------- reading

/// Why a key of a file read is not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Ronron has no field for it.
    Unknown,
    /// Ronron derives it from the service changes posted.
    Derived,
    /// Ronron keeps one contact: the e-mail address wins.
    SecondContact,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub key: String,
    pub line: usize,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationFile {
    pub organization: Organization,
    /// `(id, url, line)` of each `subs.<id>`, in the file's order.
    pub subs: Vec<(String, String, usize)>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFile {
    pub service: ServiceInfo,
    pub skipped: Vec<Skipped>,
}

fn check_class(props: &Properties, expected: FileClass) -> Result<(), InfoError> {
    let entry = props
        .entry("file.class")
        .filter(|e| !e.value.trim().is_empty())
        .ok_or_else(|| InfoError::Missing { key: "file.class".into() })?;
    match FileClass::parse(&entry.value) {
        Some(class) if class == expected => Ok(()),
        Some(class) => Err(InfoError::line(
            entry.line,
            Kind::InfoClassWrong,
            &[("class", class.name()), ("expected", expected.name())],
        )),
        None => Err(InfoError::line(entry.line, Kind::InfoClassUnknown, &[("value", entry.value.trim())])),
    }
}

fn mandatory(props: &Properties, key: &str) -> Result<String, InfoError> {
    props.get(key).map(str::to_string).ok_or_else(|| InfoError::Missing { key: key.into() })
}

/// Some real files quote their URLs (`'https://…'`): the quotes are not part of them.
fn unquote(value: &str) -> &str {
    let v = value.trim();
    for q in ['\'', '"'] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner.trim();
        }
    }
    v
}

fn url_value(props: &Properties, key: &str) -> Result<Option<String>, InfoError> {
    let Some(entry) = props.entry(key) else { return Ok(None) };
    let value = unquote(&entry.value);
    if value.is_empty() {
        return Ok(None);
    }
    check_url(key, value, entry.line).map(Some)
}

fn check_url(key: &str, value: &str, line: usize) -> Result<String, InfoError> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(value.to_string()),
        _ => Err(InfoError::line(line, Kind::InfoNotUrl, &[("key", key), ("value", value)])),
    }
}

fn email_value(props: &Properties, key: &str) -> Result<Option<String>, InfoError> {
    let Some(entry) = props.entry(key) else { return Ok(None) };
    let value = unquote(&entry.value).trim_start_matches("mailto:");
    if value.is_empty() {
        return Ok(None);
    }
    match value.split_once('@') {
        Some((user, host)) if !user.is_empty() && !host.is_empty() && !value.contains(char::is_whitespace) => {
            Ok(Some(value.to_string()))
        }
        _ => Err(InfoError::line(entry.line, Kind::InfoNotEmail, &[("key", key), ("value", value)])),
    }
}

fn skipped(props: &Properties, known: &[&str], derived: &[&str], extra: Vec<Skipped>) -> Vec<Skipped> {
    let mut out: Vec<Skipped> = props
        .entries
        .iter()
        .filter(|e| !e.value.trim().is_empty())
        .filter(|e| !e.key.starts_with("file.") && !e.key.starts_with("subs.") && !known.contains(&e.key.as_str()))
        .map(|e| Skipped {
            key: e.key.clone(),
            line: e.line,
            reason: if derived.contains(&e.key.as_str()) { SkipReason::Derived } else { SkipReason::Unknown },
        })
        .chain(extra)
        .collect();
    out.sort_by_key(|s| s.line);
    out
}

/// Reads an organisation file: its mandatory keys, the fields Ronron keeps, its `subs.*`, and
/// what it does not import.
pub fn read_organization(bytes: &[u8]) -> Result<OrganizationFile, InfoError> {
    let props = properties::parse(bytes)?;
    check_class(&props, FileClass::Organization)?;
    let name = mandatory(&props, "organization.name")?;
    let contact_email = email_value(&props, "organization.contact.email")?;
    let contact_url = url_value(&props, "organization.contact.url")?;
    let mut extra = Vec::new();
    if let (Some(_), Some(_)) = (&contact_email, &contact_url) {
        let line = props.entry("organization.contact.url").map_or(0, |e| e.line);
        extra.push(Skipped { key: "organization.contact.url".into(), line, reason: SkipReason::SecondContact });
    }
    let country_code = match props.entry("organization.country.code").filter(|e| !e.value.trim().is_empty()) {
        Some(e) => {
            let code = e.value.trim().to_ascii_uppercase();
            if code.len() != 2 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(InfoError::line(e.line, Kind::InfoCountryCode, &[("value", e.value.trim())]));
            }
            Some(code)
        }
        None => None,
    };
    let kind = props.get("organization.type").map(str::to_lowercase);
    let mut subs = Vec::new();
    for e in props.entries.iter().filter(|e| e.key.starts_with("subs.")) {
        let value = unquote(&e.value);
        if value.is_empty() {
            continue;
        }
        let id = e.key["subs.".len()..].to_string();
        subs.push((id, check_url(&e.key, value, e.line)?, e.line));
    }
    let organization = Organization {
        name,
        description: props.get("organization.description").map(str::to_string),
        website: url_value(&props, "organization.website")?,
        logo: url_value(&props, "organization.logo")?,
        contact_email,
        contact_url,
        kind,
        country_code,
    };
    let known = [
        "organization.name",
        "organization.description",
        "organization.website",
        "organization.logo",
        "organization.contact.url",
        "organization.contact.email",
        "organization.type",
        "organization.country.code",
    ];
    Ok(OrganizationFile { organization, subs, skipped: skipped(&props, &known, &[], extra) })
}

/// Reads a service file.
pub fn read_service(bytes: &[u8]) -> Result<ServiceFile, InfoError> {
    let props = properties::parse(bytes)?;
    check_class(&props, FileClass::Service)?;
    let name = mandatory(&props, "service.name")?;
    let service = ServiceInfo {
        name,
        description: props.get("service.description").map(str::to_string),
        website: url_value(&props, "service.website")?,
        software: props.get("software.name").map(str::to_string),
        registration: registration_of(&props)?,
        status: None,
    };
    let known = [
        "service.name",
        "service.description",
        "service.website",
        "software.name",
        "service.registration",
        "service.registration.load",
    ];
    let derived = ["service.status.level", "service.status.description"];
    Ok(ServiceFile { service, skipped: skipped(&props, &known, &derived, vec![]) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> FileHeader {
        FileHeader {
            generated_at: chrono::NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(8, 0, 0).unwrap(),
            generator: "Ronron 0.1.0".into(),
        }
    }

    #[test]
    fn an_organisation_reads_back_as_written() {
        let org = Organization {
            name: "Chaton d’essai".into(),
            description: Some("Hébergeur associatif.\nDeuxième ligne.".into()),
            website: Some("https://chaton.example/".into()),
            logo: None,
            contact_url: None,
            contact_email: Some("contact@chaton.example".into()),
            kind: Some("association".into()),
            country_code: Some("FR".into()),
        };
        let subs = vec![("pad".to_string(), "https://chaton.example/chatonsinfos/services/pad.properties".to_string())];
        let text = organization_file(&head(), &org, &subs);
        assert!(text.contains("# [File]\nfile.class = Organization\nfile.protocol = ChatonsInfos-0.5\n"), "{text}");
        assert!(text.contains("file.datetime = 2030-03-12T08:00:00\n"), "{text}");
        assert!(text.contains("organization.type = ASSOCIATION\n"), "{text}");
        assert!(!text.contains("organization.logo"), "unknown fields are left out: {text}");
        let read = read_organization(text.as_bytes()).unwrap();
        assert_eq!(read.organization, org);
        assert_eq!(read.subs, vec![(subs[0].0.clone(), subs[0].1.clone(), 18)]);
        assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    }

    #[test]
    fn a_service_reads_back_as_written_except_its_derived_status() {
        for registration in [Registration::Open, Registration::OnRequest, Registration::Closed] {
            let service = ServiceInfo {
                name: "Pad".into(),
                description: Some("Écrire à plusieurs".into()),
                website: Some("https://pad.chaton.example/".into()),
                software: Some("Etherpad".into()),
                registration: Some(registration),
                status: Some(ServiceStatus::PartialOutage),
            };
            let text = service_file(&head(), &service);
            assert!(text.contains("service.status.level = ALERT\n"), "{text}");
            let read = read_service(text.as_bytes()).unwrap();
            assert_eq!(read.service, ServiceInfo { status: None, ..service });
            assert_eq!(read.skipped[0].reason, SkipReason::Derived);
        }
    }

    #[test]
    fn the_federation_file_lists_its_members() {
        let fed = Federation {
            name: "CHATONS".into(),
            description: "Collectif des hébergeurs".into(),
            website: "https://www.chatons.org/".into(),
            contact_email: "contact@chatons.org".into(),
        };
        let members = vec![
            ("Chaton d’Été".to_string(), "https://a.example/chatonsinfos/organization.properties".to_string()),
            ("chaton d été".to_string(), "https://b.example/chatonsinfos/organization.properties".to_string()),
        ];
        let text = federation_file(&head(), &fed, &members);
        assert!(text.contains("file.class = Federation\n"));
        assert!(text.contains("# [Subs]\nsubs.chaton-d-ete = https://a.example/"), "{text}");
        assert!(text.contains("subs.chaton-d-ete-2 = https://b.example/"), "{text}");
        let props = properties::parse(text.as_bytes()).unwrap();
        assert_eq!(props.get("federation.name"), Some("CHATONS"));
    }

    #[test]
    fn bad_files_are_refused_naming_the_line_or_the_key() {
        let err = |text: &str| read_organization(text.as_bytes()).unwrap_err().to_string();
        assert_eq!(err("organization.name = X\n"), "`file.class` is missing (it is mandatory)");
        assert_eq!(err("file.class = organization\n"), "`organization.name` is missing (it is mandatory)");
        assert_eq!(
            err("file.class = service\nservice.name = X\n"),
            "line 1: `file.class` is Service; this must be an Organization file"
        );
        assert_eq!(
            err("file.class = organization\norganization.name = X\norganization.website = ftp://x.example/\n"),
            "line 3: `organization.website` must be an http(s) URL, not `ftp://x.example/`"
        );
        assert_eq!(
            err("file.class = organization\norganization.name = X\n\nsubs.pad = javascript:alert(1)\n"),
            "line 4: `subs.pad` must be an http(s) URL, not `javascript:alert(1)`"
        );
        let service = |text: &str| read_service(text.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            service("file.class = service\nservice.name = X\nservice.registration.load = MAYBE\n"),
            "line 3: `service.registration.load` is `MAYBE`; say OPEN or FULL"
        );
    }

    #[test]
    fn quoted_urls_and_lowercase_classes_of_real_files_are_read() {
        let text = "file.class = organization\norganization.name = X\nsubs.pad = 'https://x.example/pad.properties'\n";
        let read = read_organization(text.as_bytes()).unwrap();
        assert_eq!(read.subs[0].1, "https://x.example/pad.properties");
    }

    #[test]
    fn registrations_map_both_ways() {
        let reg = |text: &str| {
            read_service(format!("file.class = service\nservice.name = X\n{text}").as_bytes())
                .unwrap()
                .service
                .registration
        };
        assert_eq!(
            reg("service.registration = Free;Member\nservice.registration.load = OPEN\n"),
            Some(Registration::Open)
        );
        assert_eq!(reg("service.registration = Client\n"), Some(Registration::OnRequest));
        assert_eq!(reg("service.registration = None\nservice.registration.load = FULL\n"), Some(Registration::Closed));
        assert_eq!(reg(""), None);
    }
}
