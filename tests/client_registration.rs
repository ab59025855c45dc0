//! Clients that register themselves (RFC 7591 and 7592) under the Súper Administrador's
//! policy: off by default, pending until approved, open into a group, or straight in with
//! an initial access token; public clients that authenticate with nothing but PKCE, and
//! whose refresh tokens a DPoP key holds (RFC 9449 §5).

mod common;
mod key_support;
mod oauth_support;

use consola::domain::oauth::pkce_s256;
use consola::domain::registration::*;
use consola::domain::*;
use key_support::TestKey;
use oauth_support::*;
use serde_json::{Value, json};
use std::collections::HashMap;

const CALLBACK: &str = "http://127.0.0.1:9/callback";

async fn portal(h: &Harness) -> PermissionGroup {
    h.group("Agentes", &[("assets", &[Action::View])]).await
}

async fn set_policy(h: &Harness, policy: RegistrationPolicy, group: Option<uuid::Uuid>) {
    h.admin
        .set_registration_settings(&RegistrationPatch {
            policy,
            group_id: group,
        })
        .await
        .expect("policy set");
}

async fn register(h: &Harness, body: Value, bearer: Option<&str>) -> (u16, Value) {
    let mut request = raw()
        .post(format!("{}/oauth/register", h.url()))
        .json(&body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_string());
    let body: Value = response.json().await.unwrap();
    if status == 201 {
        assert_eq!(
            cache.as_deref(),
            Some("no-store"),
            "credentials are not cached"
        );
    }
    (status, body)
}

fn public_app() -> Value {
    json!({
        "client_name": "Agente MCP",
        "redirect_uris": [CALLBACK],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "software_id": "ignored-but-accepted",
    })
}

fn authorize_params(client_id: &str, challenge: &str) -> Vec<(String, String)> {
    vec![
        ("response_type".into(), "code".into()),
        ("client_id".into(), client_id.into()),
        ("redirect_uri".into(), CALLBACK.into()),
        ("state".into(), "s1".into()),
        ("code_challenge".into(), challenge.into()),
        ("code_challenge_method".into(), "S256".into()),
    ]
}

/// The authorization page's status and text.
async fn authorize_page(h: &Harness, params: &[(String, String)]) -> (u16, String) {
    let response = raw()
        .get(format!("{}/oauth/authorize", h.url()))
        .query(params)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Logs in as the Súper Administrador, consents, and returns the code.
async fn consent(h: &Harness, params: &[(String, String)]) -> String {
    let mut form = params.to_vec();
    form.push(("username".into(), "ana".into()));
    form.push(("password".into(), PASSWORD.into()));
    form.push(("decision".into(), "approve".into()));
    let answer = raw()
        .post(format!("{}/oauth/authorize", h.url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let location = answer.headers()["location"].to_str().unwrap();
    let url = url::Url::parse(location).unwrap();
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    query["code"].clone()
}

async fn token(h: &Harness, form: &[(&str, &str)], dpop: Option<String>) -> (u16, Value) {
    let mut request = raw().post(format!("{}/oauth/token", h.url())).form(form);
    if let Some(proof) = dpop {
        request = request.header("DPoP", proof);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn registration_is_off_until_the_super_administrator_turns_it_on() {
    let h = start().await;
    let metadata: Value = raw()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            h.url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        metadata.get("registration_endpoint").is_none(),
        "{metadata}"
    );
    assert!(
        metadata
            .get("client_id_metadata_document_supported")
            .is_none()
    );
    assert!(
        metadata
            .get("client_id_metadata_document_supported")
            .is_none()
    );
    assert!(
        !metadata["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none"))
    );
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    let (status, body) = register(&h, public_app(), None).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));

    // Only the Súper Administrador sets it, and not without a group.
    let group = portal(&h).await;
    let err = h
        .admin
        .set_registration_settings(&RegistrationPatch {
            policy: RegistrationPolicy::Approval,
            group_id: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    h.admin
        .create_user(&NewUser {
            username: "beto".into(),
            display_name: "Beto".into(),
            password: PASSWORD.into(),
            role: Role::Admin,
        })
        .await
        .unwrap();
    let admin = h
        .anon
        .with_token(h.anon.login("beto", PASSWORD).await.unwrap().token);
    let err = admin
        .set_registration_settings(&RegistrationPatch {
            policy: RegistrationPolicy::Open,
            group_id: Some(group.id),
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(
        admin.registration_settings().await.unwrap().policy,
        RegistrationPolicy::Off,
        "an admin may read it"
    );

    set_policy(&h, RegistrationPolicy::Approval, Some(group.id)).await;
    let metadata = h.anon.metadata().await.unwrap();
    assert_eq!(
        metadata.registration_endpoint.as_deref(),
        Some(format!("{}/oauth/register", h.url()).as_str())
    );
    assert!(
        metadata
            .token_endpoint_auth_methods_supported
            .contains(&"none".to_string())
    );
    let settings = h.admin.registration_settings().await.unwrap();
    assert_eq!(settings.group_name.as_deref(), Some("Agentes"));
    assert_eq!(settings.updated_by, "ana");
}

#[tokio::test]
async fn a_pending_client_gets_no_code_until_approved_then_works_as_a_public_client() {
    let h = start().await;
    let group = portal(&h).await;
    set_policy(&h, RegistrationPolicy::Approval, Some(group.id)).await;
    let (status, client) = register(&h, public_app(), None).await;
    assert_eq!(status, 201, "{client}");
    assert_eq!(client["approval"], "pending");
    assert_eq!(client["token_endpoint_auth_method"], "none");
    assert!(
        client.get("client_secret").is_none(),
        "a public client has no secret"
    );
    assert!(
        client["registration_access_token"]
            .as_str()
            .unwrap()
            .starts_with("consola_rg_")
    );
    let client_id = client["client_id"].as_str().unwrap().to_string();
    assert_eq!(
        client["registration_client_uri"],
        format!("{}/oauth/register/{client_id}", h.url())
    );

    // Waiting: a page that says so, and no code.
    let v = verifier();
    let params = authorize_params(&client_id, &pkce_s256(&v));
    let (status, page) = authorize_page(&h, &params).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("espera la aprobación"), "{page}");
    assert!(!page.contains("name=\"password\""), "no login form: {page}");

    let pending = h.admin.pending_consumers().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].origin, ConsumerOrigin::Registration);
    assert_eq!(pending[0].redirect_uris, vec![CALLBACK.to_string()]);
    let approved = h
        .admin
        .approve_consumer(pending[0].id, group.id)
        .await
        .unwrap();
    assert_eq!(approved.approval, Approval::Approved);
    assert!(h.admin.pending_consumers().await.unwrap().is_empty());
    let again = h
        .admin
        .approve_consumer(pending[0].id, group.id)
        .await
        .unwrap_err();
    assert_eq!(again.status(), Some(409), "decided once");

    // Approved: the code flow with PKCE and the client_id alone.
    let code = consent(&h, &params).await;
    let (status, body) = token(
        &h,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &v),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "assets:view");
    let refresh = body["refresh_token"].as_str().unwrap();
    let (status, body) = token(
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("refresh_token", refresh),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A public client cannot use client credentials, nor pose as a confidential one.
    let (status, body) = token(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
        ],
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let confidential = h.reports_consumer(TokenFormat::Opaque).await;
    let (status, body) = token(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &confidential.consumer.client_id),
        ],
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    let audit = h.admin.audit(&AuditQuery::default()).await.unwrap();
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.module == "Registro de clientes"
                && e.description.starts_with("Aprobado en el grupo")),
        "the decision is audited"
    );
    assert!(
        audit
            .items
            .iter()
            .all(|e| !e.description.contains("consola_rg_")),
        "no registration token in the audit log"
    );
}

#[tokio::test]
async fn a_rejected_client_stays_refused_and_open_registration_lets_clients_straight_in() {
    let h = start().await;
    let group = portal(&h).await;
    set_policy(&h, RegistrationPolicy::Approval, Some(group.id)).await;
    let (_, client) = register(&h, public_app(), None).await;
    let pending = h.admin.pending_consumers().await.unwrap();
    let rejected = h.admin.reject_consumer(pending[0].id).await.unwrap();
    assert_eq!(rejected.approval, Approval::Rejected);
    let v = verifier();
    let params = authorize_params(client["client_id"].as_str().unwrap(), &pkce_s256(&v));
    let (status, page) = authorize_page(&h, &params).await;
    assert_eq!(status, 400);
    assert!(page.contains("rechazó"), "{page}");
    let err = h
        .admin
        .approve_consumer(pending[0].id, group.id)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));

    set_policy(&h, RegistrationPolicy::Open, Some(group.id)).await;
    // The same app again (every copy of an app registers under its one name): in, told
    // apart by the start of its Clave.
    let (status, copy) = register(&h, public_app(), None).await;
    assert_eq!(status, 201, "{copy}");
    let copy_id = copy["client_id"].as_str().unwrap();
    assert_eq!(
        copy["client_name"],
        format!("Agente MCP ({})", &copy_id[..6])
    );
    let (status, client) = register(
        &h,
        json!({
            "client_name": "Integración abierta",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_post",
        }),
        None,
    )
    .await;
    assert_eq!(status, 201, "{client}");
    assert_eq!(client["approval"], "approved");
    assert_eq!(client["client_secret_expires_at"], 0);
    let (status, body) = token(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client["client_id"].as_str().unwrap()),
            ("client_secret", client["client_secret"].as_str().unwrap()),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "assets:view");
}

#[tokio::test]
async fn a_confidential_client_gets_no_token_while_pending() {
    let h = start().await;
    let group = portal(&h).await;
    set_policy(&h, RegistrationPolicy::Approval, Some(group.id)).await;
    let (status, client) = register(
        &h,
        json!({"client_name": "Robot", "grant_types": ["client_credentials"]}),
        None,
    )
    .await;
    assert_eq!(status, 201, "{client}");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client["client_id"].as_str().unwrap()),
        ("client_secret", client["client_secret"].as_str().unwrap()),
    ];
    let (status, body) = token(&h, &form, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let pending = h.admin.pending_consumers().await.unwrap();
    h.admin
        .approve_consumer(pending[0].id, group.id)
        .await
        .unwrap();
    let (status, body) = token(&h, &form, None).await;
    assert_eq!(status, 200, "approved, the same secret works: {body}");
}

#[tokio::test]
async fn initial_access_tokens_register_straight_into_their_group() {
    let h = start().await;
    let group = portal(&h).await;
    let other = h.group("Otro", &[("reports", &[Action::View])]).await;
    set_policy(&h, RegistrationPolicy::Approval, Some(group.id)).await;
    let created = h
        .admin
        .create_initial_access_token(&NewInitialAccessToken {
            name: "Despliegue".into(),
            permission_group_id: other.id,
            days: Some(7),
        })
        .await
        .unwrap();
    let token_text = created.initial_access_token.expose().to_string();
    assert!(token_text.starts_with("consola_ia_"));
    let listed = h.admin.initial_access_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].permission_group_name, "Otro");
    assert!(
        !serde_json::to_string(&listed)
            .unwrap()
            .contains(&token_text)
    );

    let (status, client) = register(&h, public_app(), Some(&token_text)).await;
    assert_eq!(status, 201, "{client}");
    assert_eq!(client["approval"], "approved");
    let consumer = h
        .admin
        .consumers(&ConsumerQuery::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|c| c.client_id == client["client_id"])
        .unwrap();
    assert_eq!(consumer.permission_group_id, other.id);

    let (status, body) = register(&h, public_app(), Some("consola_ia_nope")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    // Off is off, with a token too.
    set_policy(&h, RegistrationPolicy::Off, None).await;
    let (status, _) = register(&h, public_app(), Some(&token_text)).await;
    assert_eq!(status, 404);
    set_policy(&h, RegistrationPolicy::Approval, Some(group.id)).await;
    h.admin
        .delete_initial_access_token(created.token.id)
        .await
        .unwrap();
    let (status, _) = register(&h, public_app(), Some(&token_text)).await;
    assert_eq!(status, 401, "deleted: it registers nothing more");
}

#[tokio::test]
async fn a_registered_client_reads_changes_and_deletes_itself_with_its_token_only() {
    let h = start().await;
    let group = portal(&h).await;
    set_policy(&h, RegistrationPolicy::Open, Some(group.id)).await;
    let (_, client) = register(&h, public_app(), None).await;
    let uri = client["registration_client_uri"]
        .as_str()
        .unwrap()
        .to_string();
    let rat = client["registration_access_token"]
        .as_str()
        .unwrap()
        .to_string();

    let read = raw().get(&uri).bearer_auth(&rat).send().await.unwrap();
    assert_eq!(read.status(), 200);
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["client_name"], "Agente MCP");
    assert!(
        read.get("registration_access_token").is_none(),
        "shown once"
    );
    for wrong in [None, Some("consola_rg_wrong"), Some("nonsense")] {
        let mut request = raw().get(&uri);
        if let Some(token) = wrong {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{wrong:?}");
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
    }

    let mut changed = public_app();
    changed["redirect_uris"] = json!(["http://127.0.0.1:9/otra"]);
    let updated = raw()
        .put(&uri)
        .bearer_auth(&rat)
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(updated["redirect_uris"], json!(["http://127.0.0.1:9/otra"]));
    changed["token_endpoint_auth_method"] = json!("client_secret_basic");
    let refused = raw()
        .put(&uri)
        .bearer_auth(&rat)
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400, "the method stays as registered");

    let deleted = raw().delete(&uri).bearer_auth(&rat).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = raw().get(&uri).bearer_auth(&rat).send().await.unwrap();
    assert_eq!(gone.status(), 401);
}

#[tokio::test]
async fn bad_metadata_is_refused_with_its_error_and_registrations_are_throttled() {
    let h = start().await;
    let group = portal(&h).await;
    set_policy(&h, RegistrationPolicy::Approval, Some(group.id)).await;
    for (body, error) in [
        (
            json!({"redirect_uris": ["http://evil.example/cb"], "token_endpoint_auth_method": "none"}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": [CALLBACK], "grant_types": ["implicit"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "tls_client_auth"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": "no es una lista"}),
            "invalid_client_metadata",
        ),
        (json!([1, 2]), "invalid_client_metadata"),
    ] {
        let (status, answer) = register(&h, body.clone(), None).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some(error)),
            "{body}"
        );
    }
    // Ten registrations from one address in the window, then 429 with Retry-After.
    let mut statuses = Vec::new();
    for i in 0..12 {
        let mut app = public_app();
        app["client_name"] = json!(format!("Agente {i}"));
        let response = raw()
            .post(format!("{}/oauth/register", h.url()))
            .json(&app)
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
        }
        statuses.push(response.status().as_u16());
    }
    assert!(statuses[..10].iter().all(|s| *s == 201), "{statuses:?}");
    assert_eq!(statuses[10..], [429, 429], "{statuses:?}");
}

#[tokio::test]
async fn a_public_clients_refresh_token_is_held_by_its_dpop_key() {
    let h = start().await;
    let group = portal(&h).await;
    set_policy(&h, RegistrationPolicy::Open, Some(group.id)).await;
    let (_, client) = register(&h, public_app(), None).await;
    let client_id = client["client_id"].as_str().unwrap().to_string();
    let v = verifier();
    let code = consent(&h, &authorize_params(&client_id, &pkce_s256(&v))).await;
    let key = TestKey::new("ES256", "dpop");
    let endpoint = format!("{}/oauth/token", h.url());
    let (status, body) = token(
        &h,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &v),
        ],
        Some(key.dpop_proof("POST", &endpoint, None, None)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", client_id.as_str()),
        ("refresh_token", refresh.as_str()),
    ];
    // Without a proof, or with another key's: refused, and the refresh token not spent.
    let (status, body) = token(&h, &form, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let thief = TestKey::new("ES256", "thief");
    let (status, body) = token(
        &h,
        &form,
        Some(thief.dpop_proof("POST", &endpoint, None, None)),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let (status, body) = token(
        &h,
        &form,
        Some(key.dpop_proof("POST", &endpoint, None, None)),
    )
    .await;
    assert_eq!(status, 200, "its own key: {body}");
    // The binding goes on with the family.
    let next = body["refresh_token"].as_str().unwrap();
    let (status, _) = token(
        &h,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client_id.as_str()),
            ("refresh_token", next),
        ],
        None,
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_api_names_its_resource_metadata_on_a_401() {
    let h = start().await;
    let response = raw()
        .get(format!("{}/api/v1/modules/assets/access", h.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    let metadata_url = format!("{}/.well-known/oauth-protected-resource/api/v1", h.url());
    assert!(
        challenge.contains(&format!("resource_metadata=\"{metadata_url}\"")),
        "{challenge}"
    );
    let session = raw()
        .get(format!("{}/api/v1/consumers", h.url()))
        .send()
        .await
        .unwrap();
    assert!(
        session.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("resource_metadata="),
        "every 401 of the API"
    );
    for url in [
        metadata_url.clone(),
        format!("{}/.well-known/oauth-protected-resource", h.url()),
    ] {
        let document: Value = raw().get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(document["resource"], format!("{}/api/v1", h.url()));
        assert_eq!(document["authorization_servers"], json!([h.url()]));
    }
}

#[tokio::test]
async fn at_most_fifty_clients_wait_for_approval_at_once() {
    let h = start().await;
    let group = portal(&h).await;
    set_policy(&h, RegistrationPolicy::Approval, Some(group.id)).await;
    let mut statuses = Vec::new();
    // Six loopback addresses, nine registrations each: under each address's limit.
    for last in 2..8u8 {
        let http = reqwest::Client::builder()
            .local_address(Some(std::net::IpAddr::from([127, 0, 0, last])))
            .build()
            .unwrap();
        for i in 0..9 {
            let mut app = public_app();
            app["client_name"] = json!(format!("Agente {last}-{i}"));
            let response = http
                .post(format!("{}/oauth/register", h.url()))
                .json(&app)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            if status == 429 {
                let body: Value = response.json().await.unwrap();
                assert!(
                    body["error_description"]
                        .as_str()
                        .unwrap()
                        .contains("esperando aprobación"),
                    "{body}"
                );
            }
            statuses.push(status);
        }
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        50,
        "{statuses:?}"
    );
    assert!(statuses[50..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(h.admin.pending_consumers().await.unwrap().len(), 50);
    // A decision makes room.
    let first = h.admin.pending_consumers().await.unwrap()[0].id;
    h.admin.reject_consumer(first).await.unwrap();
    let http = reqwest::Client::builder()
        .local_address(Some(std::net::IpAddr::from([127, 0, 0, 9])))
        .build()
        .unwrap();
    let response = http
        .post(format!("{}/oauth/register", h.url()))
        .json(&public_app())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}
