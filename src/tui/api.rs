//! Requests the console makes and their answers. `execute` runs one through the typed client
//! (in a spawned task); `update` only ever sees the answer as an `Action`.

use crate::client::{Client, ClientError};
use crate::domain::registration::{RegistrationPatch, RegistrationSettings};
use crate::domain::secret::SecretText;
use crate::domain::*;
use uuid::Uuid;

/// Tags a request so its answer finds its way back (and stale answers are recognized).
pub type RequestId = u64;

/// One call to the server.
#[derive(Clone)]
pub enum Request {
    SetupStatus,
    Setup(SetupRequest),
    Login {
        username: String,
        password: SecretText,
    },
    Logout,
    Account,
    UpdateAccount(String),
    ChangePassword(PasswordChange),
    Dashboard(DashboardQuery),
    ApiKey,
    ApiKeySecret,
    RegenerateApiKey,
    Modules,
    Groups,
    CreateGroup(NewPermissionGroup),
    UpdateGroup(Uuid, PermissionGroupPatch),
    DeleteGroup(Uuid),
    Users,
    CreateUser(NewUser),
    UpdateUser(Uuid, UserPatch),
    DeleteUser(Uuid),
    Consumers(ConsumerQuery),
    Consumer(Uuid),
    CreateConsumer(NewConsumer),
    UpdateConsumer {
        id: Uuid,
        patch: ConsumerPatch,
        version: i64,
    },
    DeleteConsumer(Uuid),
    RotateSecret(Uuid, RotateSecret),
    /// The clients that registered themselves and wait for approval.
    PendingConsumers,
    /// Lets a pending client in: its id, then the permission group it goes into.
    ApproveConsumer(Uuid, Uuid),
    RejectConsumer(Uuid),
    RegistrationSettings,
    SetRegistrationSettings(RegistrationPatch),
    Resources,
    CreateResource(NewProtectedResource),
    DeleteResource(Uuid),
    Audit(AuditQuery),
    SigningKeys,
    RotateSigningKey,
    SshKeys,
    AddSshKey(crate::domain::ssh_key::NewSshKey),
    DeleteSshKey(Uuid),
}

// By hand: the derived one would print passwords.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Request {
    pub fn name(&self) -> &'static str {
        match self {
            Request::SetupStatus => "SetupStatus",
            Request::Setup(_) => "Setup",
            Request::Login { .. } => "Login",
            Request::Logout => "Logout",
            Request::Account => "Account",
            Request::UpdateAccount(_) => "UpdateAccount",
            Request::ChangePassword(_) => "ChangePassword",
            Request::Dashboard(_) => "Dashboard",
            Request::ApiKey => "ApiKey",
            Request::ApiKeySecret => "ApiKeySecret",
            Request::RegenerateApiKey => "RegenerateApiKey",
            Request::Modules => "Modules",
            Request::Groups => "Groups",
            Request::CreateGroup(_) => "CreateGroup",
            Request::UpdateGroup(..) => "UpdateGroup",
            Request::DeleteGroup(_) => "DeleteGroup",
            Request::Users => "Users",
            Request::CreateUser(_) => "CreateUser",
            Request::UpdateUser(..) => "UpdateUser",
            Request::DeleteUser(_) => "DeleteUser",
            Request::Consumers(_) => "Consumers",
            Request::Consumer(_) => "Consumer",
            Request::CreateConsumer(_) => "CreateConsumer",
            Request::UpdateConsumer { .. } => "UpdateConsumer",
            Request::DeleteConsumer(_) => "DeleteConsumer",
            Request::RotateSecret(..) => "RotateSecret",
            Request::PendingConsumers => "PendingConsumers",
            Request::ApproveConsumer(..) => "ApproveConsumer",
            Request::RejectConsumer(_) => "RejectConsumer",
            Request::RegistrationSettings => "RegistrationSettings",
            Request::SetRegistrationSettings(_) => "SetRegistrationSettings",
            Request::Resources => "Resources",
            Request::CreateResource(_) => "CreateResource",
            Request::DeleteResource(_) => "DeleteResource",
            Request::Audit(_) => "Audit",
            Request::SigningKeys => "SigningKeys",
            Request::RotateSigningKey => "RotateSigningKey",
            Request::SshKeys => "SshKeys",
            Request::AddSshKey(_) => "AddSshKey",
            Request::DeleteSshKey(_) => "DeleteSshKey",
        }
    }
}

/// The server's answer to a `Request`.
#[derive(Debug, Clone)]
pub enum Response {
    SetupStatus(SetupStatus),
    SetupDone(SessionUser),
    LoggedIn(LoginResponse),
    LoggedOut,
    Account(Account),
    PasswordChanged,
    Dashboard(Dashboard),
    ApiKey(ApiKey),
    ApiKeySecret(ApiKeySecret),
    Modules(Vec<Module>),
    Groups(Vec<PermissionGroup>),
    Group(PermissionGroup),
    Users(Vec<User>),
    User(User),
    Consumers(Page<Consumer>),
    Consumer(Consumer),
    ConsumerCreated(CreatedConsumer),
    ConsumerDeleted(Uuid),
    UserDeleted(Uuid),
    GroupDeleted(Uuid),
    SigningKeys(Vec<crate::domain::oauth::SigningKeyInfo>),
    SigningKeyRotated(Vec<crate::domain::oauth::SigningKeyInfo>),
    SecretRotated(Uuid, RotatedSecret),
    PendingConsumers(Vec<Consumer>),
    /// A pending client approved or rejected, as it is now.
    Decided(Consumer),
    RegistrationSettings(RegistrationSettings),
    Resources(Vec<ProtectedResource>),
    ResourceCreated(ProtectedResource),
    ResourceDeleted(Uuid),
    Audit(Page<AuditEvent>),
    SshKeys(Vec<crate::domain::ssh_key::SshKey>),
    SshKeyAdded(crate::domain::ssh_key::SshKey),
    SshKeyDeleted(Uuid),
}

/// Runs one request.
pub async fn execute(client: &Client, request: Request) -> Result<Response, ClientError> {
    Ok(match request {
        Request::SetupStatus => Response::SetupStatus(client.setup_status().await?),
        Request::Setup(body) => Response::SetupDone(client.setup(&body, None).await?),
        Request::Login { username, password } => {
            Response::LoggedIn(client.login(&username, password.expose()).await?)
        }
        Request::Logout => {
            client.logout().await?;
            Response::LoggedOut
        }
        Request::Account => Response::Account(client.account().await?),
        Request::UpdateAccount(name) => {
            Response::Account(client.update_account(&AccountPatch { name }).await?)
        }
        Request::ChangePassword(change) => {
            client.change_password(&change).await?;
            Response::PasswordChanged
        }
        Request::Dashboard(query) => Response::Dashboard(client.dashboard(&query).await?),
        Request::ApiKey => Response::ApiKey(client.api_key().await?),
        Request::ApiKeySecret => Response::ApiKeySecret(client.api_key_secret().await?),
        Request::RegenerateApiKey => Response::ApiKeySecret(client.regenerate_api_key().await?),
        Request::Modules => Response::Modules(client.modules().await?),
        Request::Groups => Response::Groups(client.permission_groups().await?),
        Request::CreateGroup(group) => {
            Response::Group(client.create_permission_group(&group).await?)
        }
        Request::UpdateGroup(id, patch) => {
            Response::Group(client.update_permission_group(id, &patch).await?)
        }
        Request::Users => Response::Users(client.users().await?),
        Request::CreateUser(user) => Response::User(client.create_user(&user).await?),
        Request::UpdateUser(id, patch) => Response::User(client.update_user(id, &patch).await?),
        Request::SigningKeys => Response::SigningKeys(client.signing_keys().await?),
        Request::RotateSigningKey => {
            Response::SigningKeyRotated(client.rotate_signing_key().await?)
        }
        Request::DeleteUser(id) => {
            client.delete_user(id).await?;
            Response::UserDeleted(id)
        }
        Request::DeleteGroup(id) => {
            client.delete_permission_group(id).await?;
            Response::GroupDeleted(id)
        }
        Request::Consumers(query) => Response::Consumers(client.consumers(&query).await?),
        Request::Consumer(id) => Response::Consumer(client.consumer(id).await?),
        Request::CreateConsumer(consumer) => {
            Response::ConsumerCreated(client.create_consumer(&consumer).await?)
        }
        Request::UpdateConsumer { id, patch, version } => {
            Response::Consumer(client.update_consumer(id, &patch, Some(version)).await?)
        }
        Request::DeleteConsumer(id) => {
            client.delete_consumer(id).await?;
            Response::ConsumerDeleted(id)
        }
        Request::RotateSecret(id, rotate) => {
            Response::SecretRotated(id, client.rotate_secret(id, &rotate).await?)
        }
        Request::PendingConsumers => Response::PendingConsumers(client.pending_consumers().await?),
        Request::ApproveConsumer(id, group) => {
            Response::Decided(client.approve_consumer(id, group).await?)
        }
        Request::RejectConsumer(id) => Response::Decided(client.reject_consumer(id).await?),
        Request::RegistrationSettings => {
            Response::RegistrationSettings(client.registration_settings().await?)
        }
        Request::SetRegistrationSettings(patch) => {
            Response::RegistrationSettings(client.set_registration_settings(&patch).await?)
        }
        Request::Resources => Response::Resources(client.resources().await?),
        Request::CreateResource(resource) => {
            Response::ResourceCreated(client.create_resource(&resource).await?)
        }
        Request::DeleteResource(id) => {
            client.delete_resource(id).await?;
            Response::ResourceDeleted(id)
        }
        Request::Audit(query) => Response::Audit(client.audit(&query).await?),
        Request::SshKeys => Response::SshKeys(client.my_ssh_keys().await?),
        Request::AddSshKey(key) => Response::SshKeyAdded(client.add_my_ssh_key(&key).await?),
        Request::DeleteSshKey(id) => {
            client.delete_my_ssh_key(id).await?;
            Response::SshKeyDeleted(id)
        }
    })
}
