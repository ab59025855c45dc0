//! The OpenAPI 3 document, generated from the handlers' annotations.

use super::routes::resources;
use super::routes::{account, consumers, groups, oauth, registration, session, ssh_keys, users};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "consola", description = "Consumidores OAuth, grupos de permisos, usuarios y auditoría de una cuenta CMMS."),
    modifiers(&BearerAuth),
    paths(
        session::healthz, session::readyz, session::setup_status, session::setup, session::login, session::logout,
        session::me, session::change_password, session::modules,
        account::get, account::rename, account::api_key, account::api_key_secret,
        account::regenerate_api_key, account::audit, account::dashboard,
        account::signing_keys, account::rotate_signing_key,
        users::list, users::create, users::get, users::update, users::delete,
        ssh_keys::mine, ssh_keys::add, ssh_keys::remove, ssh_keys::of_user, ssh_keys::remove_of_user,
        groups::list, groups::create, groups::get, groups::update, groups::delete,
        consumers::list, consumers::create, consumers::get, consumers::update,
        consumers::delete, consumers::rotate_secret,
        resources::list, resources::create, resources::delete,
        registration::settings, registration::set_settings, registration::pending,
        registration::approve, registration::reject, registration::initial_tokens,
        registration::create_initial_token, registration::delete_initial_token,
        oauth::register, oauth::registration_read, oauth::registration_update,
        oauth::registration_delete,
        oauth::token, oauth::introspect, oauth::revoke, oauth::metadata, oauth::jwks, oauth::protected_resource,
        oauth::module_access, oauth::authorize_page, oauth::authorize_submit,
        document,
    )
)]
pub struct ApiDoc;

#[utoipa::path(operation_id = "openapi_document", get, path = "/api/v1/openapi.json", tag = "system",
    responses((status = 200, description = "This document", body = serde_json::Value)))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
