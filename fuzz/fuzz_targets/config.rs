//! The configuration as `Config::from_toml_and_env` reads it: a TOML file and `RONRON_*`
//! environment overrides.
//!
//! Input: the TOML text, then optionally a line `--- env` followed by `NAME=value` lines.
//!
//! Asserts, for every configuration it accepts: it passes `validate` again; written back as TOML
//! it reads back equal; and the URLs built from it (`urls::Urls`, which trusts a validated
//! domain) are on the configured host, without query or fragment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ronron::{config::Config, urls::Urls};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (toml_text, env_text) = text.split_once("\n--- env\n").unwrap_or((text, ""));
    let env: Vec<(String, String)> = env_text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    let Ok(config) = Config::from_toml_and_env(toml_text, &env) else { return };
    config.validate().expect("an accepted configuration validates");
    let written = toml::to_string(&config).expect("a configuration serialises");
    let again = Config::from_toml_and_env(&written, &[]).unwrap_or_else(|e| panic!("{e}\n{written}"));
    assert_eq!(again, config, "the configuration changed through TOML:\n{written}");
    let urls = Urls::new(&config);
    let expected = url::Url::parse(&format!("http://{}/", config.instance.domain)).expect("a validated domain");
    let key_id = url::Url::parse(&urls.host_key_id()).expect("the key id is a URL");
    assert_eq!(key_id.fragment(), Some("main-key"), "{key_id}");
    for url in [urls.base(), urls.host_actor(), urls.shared_inbox(), urls.instance_actor(), key_id] {
        assert_eq!(url.host_str(), expected.host_str(), "{url} is not on {}", config.instance.domain);
        assert!(url.query().is_none(), "a query in {url}");
        assert!(url.username().is_empty() && url.password().is_none(), "credentials in {url}");
    }
    assert_eq!(urls.base().path(), "/", "{}", urls.base());
    assert!(urls.host_actor().fragment().is_none(), "{}", urls.host_actor());
});
