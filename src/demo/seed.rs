//! Writes the sample data into an instance, through the same functions as the command line.

use super::sample::{self, Instance, Text};
use crate::{
    app::{
        bulletins::Bulletin,
        catalogue,
        media::Upload,
        profile::{self, ProfileEdit},
    },
    bulletin::{
        forms::{self, ChangeFields, PostFields},
        vocab::{ChangeState, Choice, ServiceStatus},
        ServiceDraft,
    },
    state::AppState,
};

/// The sample's logos, by their file name in `assets/demo/logos/`.
const LOGOS: [(&str, &[u8]); 3] = [
    ("chaton-des-monts.png", include_bytes!("../../assets/demo/logos/chaton-des-monts.png")),
    ("chat-perche.png", include_bytes!("../../assets/demo/logos/chat-perche.png")),
    ("collectif.png", include_bytes!("../../assets/demo/logos/collectif.png")),
];

pub async fn set_profile(state: &AppState, spec: &Instance) -> anyhow::Result<()> {
    let edit = ProfileEdit {
        summary: Some(spec.summary.clone()),
        structure_type: Some(spec.structure_type.clone()),
        country: Some(spec.country.clone()),
        region: Some(spec.region.clone()),
        website: Some(spec.website.clone()),
        contact: Some(format!("mailto:contact@{}", spec.website.trim_start_matches("https://"))),
        ..Default::default()
    };
    profile::set(state, edit).await?;
    crate::app::profile::federate_profile_if_changed(state).await?;
    let (_, bytes) = LOGOS
        .iter()
        .find(|(name, _)| *name == spec.logo)
        .ok_or_else(|| anyhow::anyhow!("{}: no logo `{}` in assets/demo/logos", spec.name, spec.logo))?;
    let upload = || Upload { bytes: bytes.to_vec(), declared_type: Some("image/png".into()) };
    profile::set_logo(state, upload()).await?;
    if state.config.collective_account().is_some() {
        crate::app::collective::set_logo(state, upload()).await?;
    }
    Ok(())
}

/// The instance's services, label grades, then its service changes with their follow-ups.
pub async fn seed(state: &AppState, spec: &Instance) -> anyhow::Result<()> {
    add_services(state, &spec.services).await?;
    grade(state, &spec.website, &spec.grades).await?;
    let now = state.clock.now();
    for c in &spec.changes {
        let first = change(state, c.fields(now), bilingual(state, &c.fr, &c.en)).await?;
        for f in &c.follow_ups {
            let new_state = ChangeState::parse("state", &f.state)?;
            let status = forms::choice_field("status", &f.status)?;
            follow_up(state, &first, new_state, status, bilingual(state, &f.fr, &f.en)).await?;
        }
    }
    Ok(())
}

/// The instance's news.
pub async fn news(state: &AppState, spec: &Instance) -> anyhow::Result<Bulletin> {
    let draft = bilingual(state, &spec.news.fr, &spec.news.en).draft(state.config.timezone())?;
    Ok(crate::app::bulletins::publish_post(state, draft).await?)
}

/// A post in French and English; the host's first language is the main text.
fn bilingual(state: &AppState, fr: &Text, en: &Text) -> PostFields {
    sample::bilingual(state.config.default_language(), fr, en)
}

async fn change(state: &AppState, change: ChangeFields, text: PostFields) -> anyhow::Result<Bulletin> {
    let tz = state.config.timezone();
    Ok(crate::app::bulletins::publish_change(state, text.draft(tz)?, change.draft(tz)?).await?)
}

async fn follow_up(
    state: &AppState,
    incident: &Bulletin,
    new_state: ChangeState,
    status: Option<ServiceStatus>,
    text: PostFields,
) -> anyhow::Result<Bulletin> {
    let draft = text.draft(state.config.timezone())?;
    Ok(crate::app::bulletins::post_follow_up(state, &incident.id, draft, new_state, status).await?)
}

async fn add_services(state: &AppState, services: &[sample::Service]) -> anyhow::Result<()> {
    for s in services {
        let draft = ServiceDraft {
            slug: s.slug.clone(),
            name: s.name.clone(),
            software: s.software.clone(),
            url: format!("https://{}", s.host),
            description: s.description.clone(),
            audience: s.audience.clone(),
            registration: s.registration.clone(),
        };
        catalogue::add(state, draft).await?;
    }
    Ok(())
}

/// Each grade with its comment and its evidence, a page on the host's website.
async fn grade(state: &AppState, website: &str, grades: &[sample::Grade]) -> anyhow::Result<()> {
    for g in grades {
        let evidence = format!("{website}{}", g.evidence);
        crate::app::label::set_grade(state, &g.criterion, &g.grade, Some(g.comment.clone()), Some(evidence)).await?;
    }
    Ok(())
}
