//! The authorization code flow: the login and consent page, PKCE (S256 only), exact
//! redirect URIs, single-use codes, and refresh tokens that rotate with reuse detection.

mod common;
mod oauth_support;

use consola::domain::oauth::pkce_s256;
use consola::domain::secret::SecretText;
use consola::domain::*;
use consola::service::{ManualClock, ServiceConfig};
use oauth_support::*;
use std::collections::HashMap;
use std::sync::Arc;

const CALLBACK: &str = "http://127.0.0.1:9/callback";

struct Flow {
    h: Harness,
    app: CreatedConsumer,
}

async fn flow_with(config: ServiceConfig) -> Flow {
    flow_over(start_with(config).await).await
}

async fn flow_over(h: Harness) -> Flow {
    let group = h
        .group(
            "Portal",
            &[("assets", &[Action::View]), ("reports", &[Action::View])],
        )
        .await;
    let app = h
        .consumer(
            "Portal web",
            &group,
            GrantType::AuthorizationCode,
            TokenFormat::Opaque,
        )
        .await;
    Flow { h, app }
}

async fn flow() -> Flow {
    flow_with(ServiceConfig::default()).await
}

impl Flow {
    fn params(&self, challenge: Option<&str>, method: Option<&str>) -> Vec<(String, String)> {
        let mut p = vec![
            ("response_type".to_string(), "code".to_string()),
            ("client_id".into(), self.app.consumer.client_id.clone()),
            ("redirect_uri".into(), CALLBACK.into()),
            ("state".into(), "xyz".into()),
        ];
        if let Some(c) = challenge {
            p.push(("code_challenge".into(), c.into()));
        }
        if let Some(m) = method {
            p.push(("code_challenge_method".into(), m.into()));
        }
        p
    }

    async fn page(&self, params: &[(String, String)]) -> reqwest::Response {
        raw()
            .get(format!("{}/oauth/authorize", self.h.url()))
            .query(params)
            .send()
            .await
            .unwrap()
    }

    async fn submit(
        &self,
        params: &[(String, String)],
        password: &str,
        decision: &str,
    ) -> reqwest::Response {
        let mut form = params.to_vec();
        form.push(("username".into(), "ana".into()));
        form.push(("password".into(), password.into()));
        form.push(("decision".into(), decision.into()));
        raw()
            .post(format!("{}/oauth/authorize", self.h.url()))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Logs in, consents, and returns the code from the redirect.
    async fn code(&self, challenge: &str) -> String {
        let params = self.params(Some(challenge), Some("S256"));
        let page = self.page(&params).await;
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        let html = page.text().await.unwrap();
        assert!(html.contains("Portal web") && html.contains("assets:view"));
        let answer = self.submit(&params, PASSWORD, "approve").await;
        assert_eq!(answer.status(), 303);
        let query = location_query(&answer);
        assert_eq!(query["state"], "xyz");
        query["code"].clone()
    }

    async fn exchange(&self, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let response = raw()
            .post(format!("{}/oauth/token", self.h.url()))
            .header(
                "authorization",
                consola::client::Client::basic_header(
                    &self.app.consumer.client_id,
                    self.app.client_secret.as_ref().expect("a secret"),
                ),
            )
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn exchange_code(&self, code: &str, verifier: &str) -> (u16, serde_json::Value) {
        self.exchange(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier),
        ])
        .await
    }

    async fn refresh(&self, token: &str) -> (u16, serde_json::Value) {
        self.exchange(&[("grant_type", "refresh_token"), ("refresh_token", token)])
            .await
    }
}

fn location_query(response: &reqwest::Response) -> HashMap<String, String> {
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(CALLBACK), "{location}");
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn pkce_success_gives_working_tokens_and_the_code_works_once() {
    let f = flow().await;
    let v = verifier();
    let code = f.code(&pkce_s256(&v)).await;
    let (status, body) = f.exchange_code(&code, &v).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "assets:view reports:view");
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    assert!(refresh.starts_with("consola_rt_"));
    let access = SecretText::new(body["access_token"].as_str().unwrap().into());
    assert!(f.h.anon.module_access(&access, "assets").await.is_ok());

    // The same code again: refused, and what it produced is revoked: the refresh token
    // and the access token alike.
    let (status, body) = f.exchange_code(&code, &v).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = f.refresh(&refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let err = f.h.anon.module_access(&access, "assets").await.unwrap_err();
    assert_eq!(
        err.status(),
        Some(401),
        "the code's access token died with it"
    );
}

#[tokio::test]
async fn each_pkce_failure_is_refused() {
    let f = flow().await;
    let v = verifier();
    let challenge = pkce_s256(&v);

    // No challenge, a plain one, a malformed one: back to the client with invalid_request.
    for params in [
        f.params(None, None),
        f.params(Some(&challenge), None),
        f.params(Some(&v), Some("plain")),
        f.params(Some("short"), Some("S256")),
    ] {
        let response = f.page(&params).await;
        assert_eq!(response.status(), 303);
        let query = location_query(&response);
        assert_eq!(query["error"], "invalid_request");
        assert_eq!(query["state"], "xyz");
        assert!(!query.contains_key("code"));
    }

    // A wrong verifier, and none at all.
    let code = f.code(&challenge).await;
    let (status, body) = f.exchange_code(&code, &verifier()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let code = f.code(&challenge).await;
    let (status, body) = f
        .exchange(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // A different redirect_uri at the exchange.
    let code = f.code(&challenge).await;
    let (status, body) = f
        .exchange(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", &v),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn a_wrong_redirect_uri_or_client_shows_a_page_and_never_redirects() {
    let f = flow().await;
    let challenge = pkce_s256(&verifier());
    let mut params = f.params(Some(&challenge), Some("S256"));
    for (name, value) in params.iter_mut() {
        if name == "redirect_uri" {
            *value = "http://127.0.0.1:9/callback/extra".into();
        }
    }
    let mut unknown = f.params(Some(&challenge), Some("S256"));
    for (name, value) in unknown.iter_mut() {
        if name == "client_id" {
            *value = "nadie".into();
        }
    }
    for params in [params, unknown] {
        let response = f.page(&params).await;
        assert_eq!(response.status(), 400);
        assert!(response.headers().get("location").is_none());
        let html = response.text().await.unwrap();
        assert!(html.contains("No se puede autorizar"));
        let submitted = f.submit(&params, PASSWORD, "approve").await;
        assert_eq!(submitted.status(), 400);
        assert!(submitted.headers().get("location").is_none());
    }
}

#[tokio::test]
async fn wrong_password_stays_on_the_page_and_denial_redirects_with_access_denied() {
    let f = flow().await;
    let params = f.params(Some(&pkce_s256(&verifier())), Some("S256"));
    let wrong = f.submit(&params, "no-es-la-clave", "approve").await;
    assert_eq!(wrong.status(), 200);
    assert!(wrong.headers().get("location").is_none());
    let html = wrong.text().await.unwrap();
    assert!(html.contains("Usuario o contraseña incorrectos"));
    assert!(!html.contains("no-es-la-clave"));

    let denied = f.submit(&params, PASSWORD, "deny").await;
    assert_eq!(denied.status(), 303);
    let query = location_query(&denied);
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["state"], "xyz");
}

#[tokio::test]
async fn codes_expire() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let ttl = chrono::Duration::milliseconds(300);
    let config = ServiceConfig {
        authorization_code_ttl: ttl,
        ..ServiceConfig::default()
    };
    let f = flow_over(start_with_clock(config, clock.clone()).await).await;
    let v = verifier();
    // A millisecond before its end the code is good; a millisecond after, it is refused.
    let code = f.code(&pkce_s256(&v)).await;
    clock.advance(ttl - chrono::Duration::milliseconds(1));
    let (status, body) = f.exchange_code(&code, &v).await;
    assert_eq!(status, 200, "{body}");
    let code = f.code(&pkce_s256(&v)).await;
    clock.advance(ttl + chrono::Duration::milliseconds(1));
    let (status, body) = f.exchange_code(&code, &v).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let f = flow().await;
    let v = verifier();
    let code = f.code(&pkce_s256(&v)).await;
    let (_, first) = f.exchange_code(&code, &v).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();

    let (status, second) = f.refresh(&r1).await;
    assert_eq!(status, 200, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2, "a new refresh token on each use");
    assert_eq!(second["scope"], "assets:view reports:view");
    let first_access = SecretText::new(first["access_token"].as_str().unwrap().into());
    let access = SecretText::new(second["access_token"].as_str().unwrap().into());
    assert!(f.h.anon.module_access(&access, "reports").await.is_ok());
    assert!(
        f.h.anon
            .module_access(&first_access, "reports")
            .await
            .is_ok()
    );

    // Another grant of the same consumer, which the theft below must not touch.
    let other_verifier = verifier();
    let other_code = f.code(&pkce_s256(&other_verifier)).await;
    let (status, other) = f.exchange_code(&other_code, &other_verifier).await;
    assert_eq!(status, 200, "{other}");
    let other_access = SecretText::new(other["access_token"].as_str().unwrap().into());

    // Narrowing on refresh, and asking for more than was granted.
    let (status, third) = f
        .exchange(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &r2),
            ("scope", "reports:view"),
        ])
        .await;
    assert_eq!(status, 200, "{third}");
    assert_eq!(third["scope"], "reports:view");
    let r3 = third["refresh_token"].as_str().unwrap().to_string();
    let (status, body) = f
        .exchange(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &r3),
            ("scope", "work_orders:view"),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    // Refused, it is not spent: r3 still refreshes (and is spent by that).
    let (status, fourth) = f.refresh(&r3).await;
    assert_eq!(
        status, 200,
        "r3 is still good after a refused scope: {fourth}"
    );
    let r4 = fourth["refresh_token"].as_str().unwrap().to_string();
    let fourth_access = SecretText::new(fourth["access_token"].as_str().unwrap().into());

    // Reusing r1 is theft: the whole family goes, the newest one included, and every
    // access token issued under it.
    let (status, body) = f.refresh(&r1).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = f.refresh(&r4).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    for token in [&first_access, &access, &fourth_access] {
        let err = f.h.anon.module_access(token, "reports").await.unwrap_err();
        assert_eq!(err.status(), Some(401));
    }
    assert!(
        f.h.anon
            .module_access(&other_access, "reports")
            .await
            .is_ok(),
        "another grant of the same consumer lives on"
    );

    // Still so after a restart.
    let Flow { h, app } = f;
    let f = Flow {
        h: h.restart(ServiceConfig::default()).await,
        app,
    };
    let err =
        f.h.anon
            .module_access(&access, "reports")
            .await
            .unwrap_err();
    assert_eq!(
        err.status(),
        Some(401),
        "the ended grant survives a restart"
    );
    assert!(
        f.h.anon
            .module_access(&other_access, "reports")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_family() {
    let f = flow().await;
    let v = verifier();
    let code = f.code(&pkce_s256(&v)).await;
    let (_, first) = f.exchange_code(&code, &v).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let access = SecretText::new(first["access_token"].as_str().unwrap().into());
    let (id, secret) = creds(&f.app);
    let seen = f.h.anon.introspect(&r1, Some((id, secret))).await.unwrap();
    assert!(seen.active);
    assert_eq!(seen.token_type.as_deref(), Some("refresh_token"));
    assert_eq!(seen.client_id.as_deref(), Some(id));
    assert!(
        f.h.anon
            .introspect(access.expose(), Some((id, secret)))
            .await
            .unwrap()
            .active
    );
    f.h.anon.revoke(&r1, Some((id, secret))).await.unwrap();
    // RFC 7009 §2.1: the grant's access tokens go with its refresh token.
    for token in [r1.as_str(), access.expose()] {
        let seen =
            f.h.anon
                .introspect(token, Some((id, secret)))
                .await
                .unwrap();
        assert_eq!(
            serde_json::to_value(&seen).unwrap(),
            serde_json::json!({"active": false})
        );
    }
    let (status, body) = f.refresh(&r1).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

impl Flow {
    /// Logs `username` in on the consent page, consents, and returns the code.
    async fn code_as(&self, username: &str, challenge: &str) -> String {
        let mut form = self.params(Some(challenge), Some("S256"));
        form.push(("username".into(), username.into()));
        form.push(("password".into(), PASSWORD.into()));
        form.push(("decision".into(), "approve".into()));
        let answer = raw()
            .post(format!("{}/oauth/authorize", self.h.url()))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 303);
        location_query(&answer)["code"].clone()
    }

    /// A code of `username`, exchanged: (access token, refresh token).
    async fn grant_of(&self, username: &str) -> (SecretText, String) {
        let v = verifier();
        let code = self.code_as(username, &pkce_s256(&v)).await;
        let (status, body) = self.exchange_code(&code, &v).await;
        assert_eq!(status, 200, "{body}");
        (
            SecretText::new(body["access_token"].as_str().unwrap().into()),
            body["refresh_token"].as_str().unwrap().to_string(),
        )
    }

    async fn user(&self, username: &str) -> User {
        self.h
            .admin
            .create_user(&NewUser {
                username: username.into(),
                display_name: username.into(),
                password: PASSWORD.into(),
                role: Role::Admin,
            })
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn disabling_or_resetting_a_user_ends_their_grants_with_all_their_tokens() {
    let f = flow().await;
    let luis = f.user("luis").await;
    let marta = f.user("marta").await;
    let (luis_access, luis_refresh) = f.grant_of("luis").await;
    let v = verifier();
    let luis_code = f.code_as("luis", &pkce_s256(&v)).await;
    let (marta_access, marta_refresh) = f.grant_of("marta").await;
    let (ana_access, ana_refresh) = f.grant_of("ana").await;

    f.h.admin
        .update_user(
            luis.id,
            &UserPatch {
                disabled: Some(true),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    f.h.admin
        .update_user(
            marta.id,
            &UserPatch {
                password: Some("otra-contraseña-larga".into()),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();

    for (access, refresh) in [
        (&luis_access, &luis_refresh),
        (&marta_access, &marta_refresh),
    ] {
        let (status, body) = f.refresh(refresh).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{body}"
        );
        let err = f.h.anon.module_access(access, "assets").await.unwrap_err();
        assert_eq!(err.status(), Some(401));
    }
    // A code the disabled user had not exchanged yet is void too.
    let (status, body) = f.exchange_code(&luis_code, &v).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Others' grants are untouched.
    assert!(f.h.anon.module_access(&ana_access, "assets").await.is_ok());
    let (status, body) = f.refresh(&ana_refresh).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_code_presented_by_another_client_is_not_burned() {
    let f = flow().await;
    let group = f.h.group("Otro", &[("assets", &[Action::View])]).await;
    let intruder =
        f.h.consumer(
            "Intruso",
            &group,
            GrantType::AuthorizationCode,
            TokenFormat::Opaque,
        )
        .await;
    let v = verifier();
    let code = f.code(&pkce_s256(&v)).await;
    let stolen = raw()
        .post(format!("{}/oauth/token", f.h.url()))
        .header(
            "authorization",
            consola::client::Client::basic_header(
                &intruder.consumer.client_id,
                intruder.client_secret.as_ref().expect("a secret"),
            ),
        )
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
            ("code_verifier", v.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), 400);
    let body: serde_json::Value = stolen.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    // The rightful client's exchange still works: the code was not spent.
    let (status, body) = f.exchange_code(&code, &v).await;
    assert_eq!(status, 200, "{body}");
}

/// `--public-url` and RFC 9207: the metadata, the consent form and every authorization
/// response name the public URL as the issuer, not the address the server listens on.
#[tokio::test]
async fn authorization_responses_name_the_public_issuer() {
    let public = "https://auth.example.com/consola";
    let f = flow_with(ServiceConfig {
        issuer: Some(public.into()),
        ..ServiceConfig::default()
    })
    .await;
    let metadata: serde_json::Value = raw()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            f.h.url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["issuer"], public);
    assert_eq!(metadata["token_endpoint"], format!("{public}/oauth/token"));
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );

    let v = verifier();
    let params = f.params(Some(&pkce_s256(&v)), Some("S256"));
    let page = f.page(&params).await.text().await.unwrap();
    assert!(
        page.contains(&format!("action=\"{public}/oauth/authorize\"")),
        "{page}"
    );
    let approved = location_query(&f.submit(&params, PASSWORD, "approve").await);
    assert_eq!(approved["iss"], public);
    let (status, tokens) = f.exchange_code(&approved["code"], &v).await;
    assert_eq!(status, 200, "{tokens}");
    // The opaque token's issuer check uses the public URL too: the token works.
    let access = raw()
        .get(format!("{}/api/v1/modules/assets/access", f.h.url()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(access.status(), 200);

    let denied = location_query(&f.submit(&params, PASSWORD, "deny").await);
    assert_eq!(denied["error"], "access_denied");
    assert_eq!(denied["iss"], public);
    // An error sent back before any login names the issuer as well.
    let refused = f.page(&f.params(None, None)).await;
    assert_eq!(refused.status(), 303);
    assert_eq!(location_query(&refused)["iss"], public);
}

#[tokio::test]
async fn an_authorization_request_gets_the_scopes_its_group_allows_of_those_it_asks_for() {
    let f = flow().await;
    let v = verifier();
    let mut params = f.params(Some(&pkce_s256(&v)), Some("S256"));
    // Asked for everything the metadata lists, as MCP clients do: granted what the group
    // gives, and the consent page says so.
    let every = consola::domain::oauth::all_scopes().join(" ");
    params.push(("scope".into(), every));
    let page = f.page(&params).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<li>assets:view</li>") && html.contains("<li>reports:view</li>"));
    assert!(
        !html.contains("<li>work_orders:add</li>"),
        "only what will be granted is listed"
    );
    let answer = f.submit(&params, PASSWORD, "approve").await;
    let code = location_query(&answer)["code"].clone();
    let (status, body) = f.exchange_code(&code, &v).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["scope"], "assets:view reports:view",
        "the response says which"
    );

    // Nothing the group allows: refused, back to the client.
    let mut none = f.params(Some(&pkce_s256(&v)), Some("S256"));
    none.push(("scope".into(), "work_orders:add".into()));
    let response = f.page(&none).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location_query(&response)["error"], "invalid_scope");
}
