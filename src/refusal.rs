//! Typed refusals: why a value a person typed is refused, as data (the field, the kind of fault,
//! the values it names) rather than as an English sentence. Each door words them once, in the
//! reader's language: the web admin next to each field, the JSON API in the request's
//! `Accept-Language`, the command line in the locale's language; `Display` (a log) is English.
//!
//! A form is checked whole: its rules push every refusal into a [`Refusals`], so the person sees
//! every field at fault at once, not one per try.

use crate::i18n::Texts;
use std::{borrow::Cow, fmt};

pub type Field = Cow<'static, str>;

/// One kind of fault, worded by the catalogue key `forms.<key>` (placeholders: the values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Required,
    TooLong,
    OneLine,
    ControlChar,
    NotHostLanguage,
    TranslationLangRequired,
    SameLanguage,
    NotATime,
    NoSuchTime,
    InThePast,
    NotOneOf,
    ServiceRequired,
    UnknownService,
    OneService,
    WindowOnlyMaintenance,
    StartRequired,
    EndRequired,
    EndBeforeStart,
    WindowOver,
    MaintenanceStatus,
    RegistrationRequired,
    NewUrlRequired,
    OnlyRegistration,
    OnlyMigration,
    UnknownChangeType,
    NotWebUrl,
    NotLinkUrl,
    Slug,
    Country,
    ServiceExists,
    UsernameExists,
    LastAdmin,
    UsernameLength,
    UsernameChars,
    PasswordTooShort,
    PasswordTooLong,
    NotAnEmail,
    NotAUrl,
    HttpsOnly,
    HostNameOnly,
    UrlCredentials,
    UrlThisMachine,
    SubscriptionsOff,
    TooManySubscriptions,
    NotAHost,
    ThisServer,
    Blocked,
    NoGrade,
    GradedTwice,
    NotACriterion,
    NotAnIncident,
    AlreadyResolved,
    IncidentState,
    NotOpenMaintenance,
    Deleted,
    NotACollective,
    AlreadyLeft,
    GroupUnknown,
    OwnAccount,
    NotAGroup,
    OwnCollective,
    FileTooBig,
    NotAnImage,
    SvgImage,
    ImageTypeMismatch,
    ImageDimensions,
    ChangeOnlyForChange,
    ChangeRequired,
    InFile,
    AtLine,
    InField,
    InfoTooLarge,
    InfoNotUtf8,
    InfoMissing,
    InfoControlChar,
    InfoBadEscape,
    InfoRegistrationLoad,
    InfoRegistration,
    InfoClassWrong,
    InfoClassUnknown,
    InfoNotUrl,
    InfoNotEmail,
    InfoSubsTwice,
    InfoTooManySubs,
    InfoCountryCode,
    SqliteOnly,
    RestoreInProgress,
    FileExists,
    FolderMissing,
    NotAFileName,
    CannotCreate,
    FileMissing,
    BackupIsDatabase,
    LiveDatabase,
    NotSqlite,
    NotRonronDatabase,
    DamagedDatabase,
    NewerDatabase,
    ServerRunning,
    ExportNotJson,
    ExportFormat,
    ExportNoFormat,
    ExportVersion,
    ExportNoVersion,
    ExportField,
    ExportUnknownValue,
    ExportKeyKind,
    ExportKeyPair,
    ExportDomain,
    ImportNotFresh,
    // What is acted on does not exist (404).
    NoBulletin,
    NoFollower,
    NoToken,
    NoWebhook,
    NoAdmin,
    NoService,
    NoSubscriber,
    NotOnRoster,
    NeverAskedToJoin,
    CollectiveOff,
    LinkInvalid,
    NoAction,
}

impl Kind {
    pub const ALL: &'static [Kind] = &[
        Kind::Required,
        Kind::TooLong,
        Kind::OneLine,
        Kind::ControlChar,
        Kind::NotHostLanguage,
        Kind::TranslationLangRequired,
        Kind::SameLanguage,
        Kind::NotATime,
        Kind::NoSuchTime,
        Kind::InThePast,
        Kind::NotOneOf,
        Kind::ServiceRequired,
        Kind::UnknownService,
        Kind::OneService,
        Kind::WindowOnlyMaintenance,
        Kind::StartRequired,
        Kind::EndRequired,
        Kind::EndBeforeStart,
        Kind::WindowOver,
        Kind::MaintenanceStatus,
        Kind::RegistrationRequired,
        Kind::NewUrlRequired,
        Kind::OnlyRegistration,
        Kind::OnlyMigration,
        Kind::UnknownChangeType,
        Kind::NotWebUrl,
        Kind::NotLinkUrl,
        Kind::Slug,
        Kind::Country,
        Kind::ServiceExists,
        Kind::UsernameExists,
        Kind::LastAdmin,
        Kind::UsernameLength,
        Kind::UsernameChars,
        Kind::PasswordTooShort,
        Kind::PasswordTooLong,
        Kind::NotAnEmail,
        Kind::NotAUrl,
        Kind::HttpsOnly,
        Kind::HostNameOnly,
        Kind::UrlCredentials,
        Kind::UrlThisMachine,
        Kind::SubscriptionsOff,
        Kind::TooManySubscriptions,
        Kind::NotAHost,
        Kind::ThisServer,
        Kind::Blocked,
        Kind::NoGrade,
        Kind::GradedTwice,
        Kind::NotACriterion,
        Kind::NotAnIncident,
        Kind::AlreadyResolved,
        Kind::IncidentState,
        Kind::NotOpenMaintenance,
        Kind::Deleted,
        Kind::NotACollective,
        Kind::AlreadyLeft,
        Kind::GroupUnknown,
        Kind::OwnAccount,
        Kind::NotAGroup,
        Kind::OwnCollective,
        Kind::FileTooBig,
        Kind::NotAnImage,
        Kind::SvgImage,
        Kind::ImageTypeMismatch,
        Kind::ImageDimensions,
        Kind::ChangeOnlyForChange,
        Kind::ChangeRequired,
        Kind::InFile,
        Kind::AtLine,
        Kind::InField,
        Kind::InfoTooLarge,
        Kind::InfoNotUtf8,
        Kind::InfoMissing,
        Kind::InfoControlChar,
        Kind::InfoBadEscape,
        Kind::InfoRegistrationLoad,
        Kind::InfoRegistration,
        Kind::InfoClassWrong,
        Kind::InfoClassUnknown,
        Kind::InfoNotUrl,
        Kind::InfoNotEmail,
        Kind::InfoSubsTwice,
        Kind::InfoTooManySubs,
        Kind::InfoCountryCode,
        Kind::SqliteOnly,
        Kind::RestoreInProgress,
        Kind::FileExists,
        Kind::FolderMissing,
        Kind::NotAFileName,
        Kind::CannotCreate,
        Kind::FileMissing,
        Kind::BackupIsDatabase,
        Kind::LiveDatabase,
        Kind::NotSqlite,
        Kind::NotRonronDatabase,
        Kind::DamagedDatabase,
        Kind::NewerDatabase,
        Kind::ServerRunning,
        Kind::ExportNotJson,
        Kind::ExportFormat,
        Kind::ExportNoFormat,
        Kind::ExportVersion,
        Kind::ExportNoVersion,
        Kind::ExportField,
        Kind::ExportUnknownValue,
        Kind::ExportKeyKind,
        Kind::ExportKeyPair,
        Kind::ExportDomain,
        Kind::ImportNotFresh,
        Kind::NoBulletin,
        Kind::NoFollower,
        Kind::NoToken,
        Kind::NoWebhook,
        Kind::NoAdmin,
        Kind::NoService,
        Kind::NoSubscriber,
        Kind::NotOnRoster,
        Kind::NeverAskedToJoin,
        Kind::CollectiveOff,
        Kind::LinkInvalid,
        Kind::NoAction,
    ];

    /// The catalogue key of this kind's words.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Required => "forms.required",
            Kind::TooLong => "forms.too_long",
            Kind::OneLine => "forms.one_line",
            Kind::ControlChar => "forms.control_char",
            Kind::NotHostLanguage => "forms.not_host_language",
            Kind::TranslationLangRequired => "forms.translation_lang_required",
            Kind::SameLanguage => "forms.same_language",
            Kind::NotATime => "forms.not_a_time",
            Kind::NoSuchTime => "forms.no_such_time",
            Kind::InThePast => "forms.in_the_past",
            Kind::NotOneOf => "forms.not_one_of",
            Kind::ServiceRequired => "forms.service_required",
            Kind::UnknownService => "forms.unknown_service",
            Kind::OneService => "forms.one_service",
            Kind::WindowOnlyMaintenance => "forms.window_only_maintenance",
            Kind::StartRequired => "forms.start_required",
            Kind::EndRequired => "forms.end_required",
            Kind::EndBeforeStart => "forms.end_before_start",
            Kind::WindowOver => "forms.window_over",
            Kind::MaintenanceStatus => "forms.maintenance_status",
            Kind::RegistrationRequired => "forms.registration_required",
            Kind::NewUrlRequired => "forms.new_url_required",
            Kind::OnlyRegistration => "forms.only_registration",
            Kind::OnlyMigration => "forms.only_migration",
            Kind::UnknownChangeType => "forms.unknown_change_type",
            Kind::NotWebUrl => "forms.not_web_url",
            Kind::NotLinkUrl => "forms.not_link_url",
            Kind::Slug => "forms.slug",
            Kind::Country => "forms.not_a_country",
            Kind::ServiceExists => "forms.service_exists",
            Kind::UsernameExists => "forms.username_exists",
            Kind::LastAdmin => "forms.last_admin",
            Kind::UsernameLength => "forms.username_length",
            Kind::UsernameChars => "forms.username_chars",
            Kind::PasswordTooShort => "forms.password_too_short",
            Kind::PasswordTooLong => "forms.password_too_long",
            Kind::NotAnEmail => "forms.not_an_email",
            Kind::NotAUrl => "forms.not_a_url",
            Kind::HttpsOnly => "forms.https_only",
            Kind::HostNameOnly => "forms.host_name_only",
            Kind::UrlCredentials => "forms.url_credentials",
            Kind::UrlThisMachine => "forms.url_this_machine",
            Kind::SubscriptionsOff => "forms.subscriptions_off",
            Kind::TooManySubscriptions => "forms.too_many_subscriptions",
            Kind::NotAHost => "forms.not_a_host",
            Kind::ThisServer => "forms.this_server",
            Kind::Blocked => "forms.blocked",
            Kind::NoGrade => "forms.no_grade",
            Kind::GradedTwice => "forms.graded_twice",
            Kind::NotACriterion => "forms.not_a_criterion",
            Kind::NotAnIncident => "forms.not_an_incident",
            Kind::AlreadyResolved => "forms.already_resolved",
            Kind::IncidentState => "forms.incident_state",
            Kind::NotOpenMaintenance => "forms.not_open_maintenance",
            Kind::Deleted => "forms.deleted",
            Kind::NotACollective => "forms.not_a_collective",
            Kind::AlreadyLeft => "forms.already_left",
            Kind::GroupUnknown => "forms.group_unknown",
            Kind::OwnAccount => "forms.own_account",
            Kind::NotAGroup => "forms.not_a_group",
            Kind::OwnCollective => "forms.own_collective",
            Kind::FileTooBig => "forms.file_too_big",
            Kind::NotAnImage => "forms.not_an_image",
            Kind::SvgImage => "forms.svg_image",
            Kind::ImageTypeMismatch => "forms.image_type_mismatch",
            Kind::ImageDimensions => "forms.image_dimensions",
            Kind::ChangeOnlyForChange => "forms.change_only_for_change",
            Kind::ChangeRequired => "forms.change_required",
            Kind::InFile => "forms.in_file",
            Kind::AtLine => "forms.at_line",
            Kind::InField => "forms.in_field",
            Kind::InfoTooLarge => "forms.info_too_large",
            Kind::InfoNotUtf8 => "forms.info_not_utf8",
            Kind::InfoMissing => "forms.info_missing",
            Kind::InfoControlChar => "forms.info_control_char",
            Kind::InfoBadEscape => "forms.info_bad_escape",
            Kind::InfoRegistrationLoad => "forms.info_registration_load",
            Kind::InfoRegistration => "forms.info_registration",
            Kind::InfoClassWrong => "forms.info_class_wrong",
            Kind::InfoClassUnknown => "forms.info_class_unknown",
            Kind::InfoNotUrl => "forms.info_not_url",
            Kind::InfoNotEmail => "forms.info_not_email",
            Kind::InfoSubsTwice => "forms.info_subs_twice",
            Kind::InfoTooManySubs => "forms.info_too_many_subs",
            Kind::InfoCountryCode => "forms.info_country_code",
            Kind::SqliteOnly => "forms.sqlite_only",
            Kind::RestoreInProgress => "forms.restore_in_progress",
            Kind::FileExists => "forms.file_exists",
            Kind::FolderMissing => "forms.folder_missing",
            Kind::NotAFileName => "forms.not_a_file_name",
            Kind::CannotCreate => "forms.cannot_create",
            Kind::FileMissing => "forms.file_missing",
            Kind::BackupIsDatabase => "forms.backup_is_database",
            Kind::LiveDatabase => "forms.live_database",
            Kind::NotSqlite => "forms.not_sqlite",
            Kind::NotRonronDatabase => "forms.not_ronron_database",
            Kind::DamagedDatabase => "forms.damaged_database",
            Kind::NewerDatabase => "forms.newer_database",
            Kind::ServerRunning => "forms.server_running",
            Kind::ExportNotJson => "forms.export_not_json",
            Kind::ExportFormat => "forms.export_format",
            Kind::ExportNoFormat => "forms.export_no_format",
            Kind::ExportVersion => "forms.export_version",
            Kind::ExportNoVersion => "forms.export_no_version",
            Kind::ExportField => "forms.export_field",
            Kind::ExportUnknownValue => "forms.export_unknown_value",
            Kind::ExportKeyKind => "forms.export_key_kind",
            Kind::ExportKeyPair => "forms.export_key_pair",
            Kind::ExportDomain => "forms.export_domain",
            Kind::ImportNotFresh => "forms.import_not_fresh",
            Kind::NoBulletin => "forms.no_bulletin",
            Kind::NoFollower => "forms.no_follower",
            Kind::NoToken => "forms.no_token",
            Kind::NoWebhook => "forms.no_webhook",
            Kind::NoAdmin => "forms.no_admin",
            Kind::NoService => "forms.no_service",
            Kind::NoSubscriber => "forms.no_subscriber",
            Kind::NotOnRoster => "forms.not_on_roster",
            Kind::NeverAskedToJoin => "forms.never_asked_to_join",
            Kind::CollectiveOff => "forms.collective_off",
            Kind::LinkInvalid => "forms.link_invalid",
            Kind::NoAction => "forms.no_action",
        }
    }
}

/// Why a value is refused: a known kind with the values it names, or a text from outside (a
/// remote server's answer, a rule not typed yet), shown as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Known {
        kind: Kind,
        values: Vec<(&'static str, String)>,
    },
    /// A reason framed by where it was found (a file, a line, a field): the kind's words with
    /// the inner reason, in the same language, as `{reason}`.
    Nested {
        kind: Kind,
        values: Vec<(&'static str, String)>,
        inner: Box<Reason>,
    },
    Text(String),
}

impl Reason {
    pub fn new(kind: Kind, values: &[(&'static str, &str)]) -> Reason {
        Reason::Known { kind, values: values.iter().map(|(name, value)| (*name, value.to_string())).collect() }
    }

    pub fn nested(kind: Kind, values: &[(&'static str, &str)], inner: Reason) -> Reason {
        let values = values.iter().map(|(name, value)| (*name, value.to_string())).collect();
        Reason::Nested { kind, values, inner: Box::new(inner) }
    }

    /// The kind of fault, framed or not; `None` for a text from outside.
    pub fn kind(&self) -> Option<Kind> {
        match self {
            Reason::Known { kind, .. } => Some(*kind),
            Reason::Nested { inner, .. } => inner.kind(),
            Reason::Text(_) => None,
        }
    }

    /// The reason in `t`'s language.
    pub fn words(&self, t: &Texts) -> String {
        match self {
            Reason::Known { kind, values } => {
                let values: Vec<(&str, &str)> = values.iter().map(|(name, value)| (*name, value.as_str())).collect();
                t.fill(kind.key(), &values)
            }
            Reason::Nested { kind, values, inner } => {
                let inner = inner.words(t);
                let mut values: Vec<(&str, &str)> =
                    values.iter().map(|(name, value)| (*name, value.as_str())).collect();
                values.push(("reason", &inner));
                t.fill(kind.key(), &values)
            }
            Reason::Text(text) => text.clone(),
        }
    }
}

pub use crate::i18n::english;

impl From<String> for Reason {
    fn from(text: String) -> Reason {
        Reason::Text(text)
    }
}

impl From<&str> for Reason {
    fn from(text: &str) -> Reason {
        Reason::Text(text.to_string())
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.words(english()))
    }
}

/// One field refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: Field,
    pub reason: Reason,
}

impl Refusal {
    pub fn new(field: impl Into<Field>, kind: Kind, values: &[(&'static str, &str)]) -> Refusal {
        Refusal { field: field.into(), reason: Reason::new(kind, values) }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Every refusal, `; `-separated (one line each is the command line's choice).
pub fn joined(refusals: &[Refusal]) -> String {
    refusals.iter().map(Refusal::to_string).collect::<Vec<_>>().join("; ")
}

/// The refusals of one form, collected while each rule runs.
#[derive(Debug, Default)]
pub struct Refusals(Vec<Refusal>);

impl Refusals {
    pub fn new() -> Refusals {
        Refusals::default()
    }

    pub fn refuse(&mut self, field: impl Into<Field>, kind: Kind, values: &[(&'static str, &str)]) {
        self.0.push(Refusal::new(field, kind, values));
    }

    pub fn push(&mut self, refusal: Refusal) {
        self.0.push(refusal);
    }

    pub fn extend(&mut self, refusals: impl IntoIterator<Item = Refusal>) {
        self.0.extend(refusals);
    }

    /// A field already refused (a later rule about it would only repeat the fault).
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|r| r.field == field)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<Refusal> {
        self.0
    }
}
