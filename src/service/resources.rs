//! Protected resources (RFC 8707): the list the Súper Administrador keeps of the APIs tokens
//! are issued for, and the copy of it in memory that token requests look resources up in
//! without reading the database. The copy follows every write here at once, and other
//! replicas' writes through the change feed (`Change::Resource`, see `changes`).

use super::*;
use crate::domain::resource::ValidProtectedResource;
use std::collections::HashMap;
use uuid::Uuid;

/// The resources in memory, by URL.
#[derive(Default)]
pub(super) struct ResourceList(parking_lot::RwLock<ByUrl>);

#[derive(Default)]
struct ByUrl {
    resources: HashMap<String, ProtectedResource>,
    /// Counts the writes made here: a list read from the database replaces the copy only
    /// if none was made meanwhile, so that a read which started before a write committed
    /// cannot take the write back.
    generation: u64,
}

impl ResourceList {
    fn generation(&self) -> u64 {
        self.0.read().generation
    }

    /// Replaces the copy with `list` unless a write was made here since `seen`.
    fn replace(&self, seen: u64, list: Vec<ProtectedResource>) -> bool {
        let mut copy = self.0.write();
        if copy.generation != seen {
            return false;
        }
        copy.resources = list.into_iter().map(|r| (r.url.clone(), r)).collect();
        true
    }

    fn added(&self, resource: ProtectedResource) {
        let mut copy = self.0.write();
        copy.resources.insert(resource.url.clone(), resource);
        copy.generation += 1;
    }

    fn removed(&self, url: &str) {
        let mut copy = self.0.write();
        copy.resources.remove(url);
        copy.generation += 1;
    }

    fn by_url(&self, url: &str) -> Option<ProtectedResource> {
        self.0.read().resources.get(url).cloned()
    }
}

/// How many times a reload reads the list again when writes here keep overtaking it; past
/// that it keeps the copy the writes made, and the feed brings the next reload.
const RELOAD_ATTEMPTS: usize = 5;

fn resource_taken(key: &str) -> ServiceError {
    let (code, detail, field, message) = match key {
        "url" => (
            "url_taken",
            "Ya existe un recurso protegido con esa URL",
            "url",
            "Ya existe un recurso con esa URL",
        ),
        _ => (
            "name_taken",
            "Ya existe un recurso protegido con ese nombre",
            "name",
            "Ya existe un recurso con ese nombre",
        ),
    };
    ServiceError::Conflict {
        code,
        detail: detail.into(),
        errors: FieldErrors::single(field, message),
    }
}

impl Service {
    /// Every resource, by name. Any signed-in user may read the list, as the consumers':
    /// its URLs are what integrations ask tokens for, and nothing in it is secret.
    pub async fn resources(&self, caller: &Caller) -> ServiceResult<Vec<ProtectedResource>> {
        self.user(caller)?;
        Ok(self.store.resources().await?)
    }

    pub async fn create_resource(
        &self,
        caller: &Caller,
        new: NewProtectedResource,
    ) -> ServiceResult<ProtectedResource> {
        let me = self.super_admin(caller)?;
        let ValidProtectedResource { name, url } = new.check().map_err(ServiceError::Validation)?;
        let resource = ProtectedResource {
            id: new_id(),
            name,
            url,
            created_at: self.now(),
            created_by: me.username.clone(),
        };
        let event = self.audit(
            caller,
            AuditAction::Add,
            modules::RESOURCES,
            &resource.name,
            format!("Recurso protegido creado; URL {}", resource.url),
        );
        match self.store.insert_resource(&resource, &event).await {
            Err(StoreError::Duplicate(key)) => return Err(resource_taken(key)),
            other => other?,
        }
        self.resources.added(resource.clone());
        Ok(resource)
    }

    pub async fn delete_resource(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        self.super_admin(caller)?;
        let current = self.store.resource(id).await?;
        let event = self.audit(
            caller,
            AuditAction::Delete,
            modules::RESOURCES,
            &current.name,
            format!("Recurso protegido eliminado; URL {}", current.url),
        );
        self.store.delete_resource(id, &event).await?;
        self.resources.removed(&current.url);
        Ok(())
    }

    /// The resource whose URL is exactly `url`, from memory: what a token request that names
    /// a `resource` is checked against. Reads nothing from the database.
    pub fn resource_by_url(&self, url: &str) -> Option<ProtectedResource> {
        self.resources.by_url(url)
    }

    /// Reads the whole list into memory: at start, before serving, and whenever the change
    /// feed says another replica changed it (or that changes may have been missed).
    pub async fn load_resources(&self) -> ServiceResult<()> {
        for _ in 0..RELOAD_ATTEMPTS {
            let seen = self.resources.generation();
            let list = self.store.resources().await?;
            if self.resources.replace(seen, list) {
                return Ok(());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(name: &str, url: &str) -> ProtectedResource {
        ProtectedResource {
            id: new_id(),
            name: name.into(),
            url: url.into(),
            created_at: Utc::now(),
            created_by: "superadmin".into(),
        }
    }

    #[test]
    fn a_list_read_before_a_write_here_does_not_take_it_back() {
        let list = ResourceList::default();
        let activos = resource("Activos", "https://activos.example/api");
        assert!(list.replace(list.generation(), vec![activos.clone()]));
        assert_eq!(list.by_url(&activos.url), Some(activos.clone()));
        assert_eq!(list.by_url("https://activos.example/api/"), None, "exact");

        // A reload reads; meanwhile a write here adds one, then the stale read comes back.
        let seen = list.generation();
        let ordenes = resource("Órdenes", "https://ordenes.example/api");
        list.added(ordenes.clone());
        assert!(!list.replace(seen, vec![activos.clone()]));
        assert_eq!(list.by_url(&ordenes.url), Some(ordenes.clone()));

        list.removed(&activos.url);
        assert_eq!(list.by_url(&activos.url), None);
        // A read made after the writes replaces the copy.
        assert!(list.replace(list.generation(), vec![ordenes.clone()]));
        assert_eq!(list.by_url(&ordenes.url), Some(ordenes));
    }
}
