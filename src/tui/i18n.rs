//! Every string of the console, in Spanish (the source text) and English: what `Lang` says.

pub use crate::terminal::Lang;

impl Lang {
    /// The text in this language; `es` is the Spanish source text and the lookup key.
    pub fn t(self, es: &'static str) -> &'static str {
        match self {
            Lang::Es => es,
            Lang::En => match ENGLISH.iter().find(|(key, _)| *key == es) {
                Some((_, en)) => en,
                None => {
                    // Shown in Spanish; remembered so that a test can name it.
                    let mut missing = MISSING.lock();
                    if !missing.contains(&es) {
                        missing.push(es);
                    }
                    es
                }
            },
        }
    }

    /// A sentence with `{}` where each value goes, in this language's own word order: the
    /// whole sentence is one entry of the table, never pieces glued in Spanish order.
    pub fn fill(self, template: &'static str, values: &[&str]) -> String {
        let mut out = String::new();
        let mut values = values.iter();
        let mut parts = self.t(template).split("{}");
        if let Some(first) = parts.next() {
            out.push_str(first);
        }
        for part in parts {
            out.push_str(values.next().copied().unwrap_or(""));
            out.push_str(part);
        }
        out
    }

    pub fn role(self, role: crate::domain::Role) -> &'static str {
        match self {
            Lang::Es => role.label_es(),
            Lang::En => role.label_en(),
        }
    }

    pub fn grant(self, grant: crate::domain::GrantType) -> &'static str {
        match self {
            Lang::Es => grant.label_es(),
            Lang::En => grant.label_en(),
        }
    }

    pub fn auth_method(self, method: crate::domain::AuthMethod) -> &'static str {
        match self {
            Lang::Es => method.label_es(),
            Lang::En => method.label_en(),
        }
    }

    pub fn policy(self, policy: crate::domain::RegistrationPolicy) -> &'static str {
        match self {
            Lang::Es => policy.label_es(),
            Lang::En => policy.label_en(),
        }
    }

    pub fn action(self, action: crate::domain::Action) -> &'static str {
        match self {
            Lang::Es => action.label_es(),
            Lang::En => action.label_en(),
        }
    }
}

/// Texts asked for in English that `ENGLISH` lacks, since the process started.
static MISSING: parking_lot::Mutex<Vec<&'static str>> = parking_lot::Mutex::new(Vec::new());

/// The texts English lacked so far (each once, sorted): a test runs every screen in English
/// and expects none.
pub fn missing_english() -> Vec<&'static str> {
    let mut missing = MISSING.lock().clone();
    missing.sort_unstable();
    missing
}

/// Spanish → English.
const ENGLISH: &[(&str, &str)] = &[
    ("(se genera al guardar)", "(generated on save)"),
    ("(sin opciones)", "(no options)"),
    ("Grupo", "Group"),
    ("Código", "Code"),
    ("Creación", "Created"),
    (
        "Sin grupos de permisos: Enter en «+ Nuevo grupo…» crea uno",
        "No permission groups: Enter on «+ New group…» creates one",
    ),
    ("+ Nuevo grupo…", "+ New group…"),
    ("Crear grupo", "Create group"),
    ("API Key regenerada", "API Key regenerated"),
    // Names that read the same in English still have their entry: checked, not forgotten.
    ("API Key", "API Key"),
    ("API Secret", "API Secret"),
    ("Actor", "Actor"),
    ("Dashboard", "Dashboard"),
    ("General", "General"),
    ("No", "No"),
    ("Ver API Secret", "Show API Secret"),
    ("Abrir", "Open"),
    ("Abrir sección", "Open section"),
    ("Acción", "Action"),
    ("Activar / siguiente", "Activate / next"),
    (
        "Activar Fracttal Hub (Middleware)",
        "Enable Fracttal Hub (Middleware)",
    ),
    ("Activar/Desactivar", "Enable/Disable"),
    ("Activo", "Enabled"),
    ("Cliente OAuth", "OAuth client"),
    ("Actualizar", "Refresh"),
    ("Aplicar filtro", "Apply filter"),
    ("Autenticaciones fallidas", "Failed authentications"),
    ("Ayuda", "Help"),
    (
        "Ayuda: teclas de esta pantalla",
        "Help: keys of this screen",
    ),
    ("CONEXIÓN API", "API CONNECTION"),
    ("Cambiar contraseña", "Change password"),
    ("Cambiar mi contraseña", "Change my password"),
    ("Cambiar pestaña", "Switch tab"),
    ("Cambiar valor", "Change value"),
    ("Campo anterior", "Previous field"),
    ("Cancelar", "Cancel"),
    ("Cargando…", "Loading…"),
    ("Cerrar", "Close"),
    ("Cerrar ayuda", "Close help"),
    ("Cerrar menú", "Close menu"),
    ("Cerrar sesión", "Sign out"),
    ("Clave", "Key"),
    ("Conectando con el servidor…", "Connecting to the server…"),
    ("Configuración", "Settings"),
    ("Configuración inicial", "Initial setup"),
    ("Confirmar", "Confirm"),
    ("Consumidor {}", "Consumer {}"),
    ("Consumidores OAuth ({}/{})", "OAuth consumers ({}/{})"),
    ("Consumidor activado", "Consumer enabled"),
    ("Consumidor creado", "Consumer created"),
    ("Consumidor desactivado", "Consumer disabled"),
    ("Consumidor eliminado", "Consumer deleted"),
    ("Usuario eliminado", "User deleted"),
    ("Grupo eliminado", "Group deleted"),
    ("Rotar clave de firma", "Rotate signing key"),
    ("Clave de firma rotada", "Signing key rotated"),
    (
        "¿Rotar la clave de firma de los tokens JWT?",
        "Rotate the signing key of JWT tokens?",
    ),
    (
        "Los tokens nuevos se firmarán con la nueva; los ya emitidos siguen válidos hasta vencer.",
        "New tokens will be signed with the new one; tokens already issued stay valid until they expire.",
    ),
    (
        "Claves de firma de los tokens JWT (EdDSA), publicadas en /.well-known/jwks.json. La vigente firma los tokens nuevos; las anteriores solo verifican los que firmaron.",
        "Signing keys of JWT tokens (EdDSA), published at /.well-known/jwks.json. The current one signs new tokens; the previous ones only verify the tokens they signed.",
    ),
    (
        "Una clave anterior se conserva mientras puedan quedar tokens vigentes firmados con ella (y siempre las tres más recientes); un token firmado con una clave retirada deja de ser válido.",
        "A previous key is kept while tokens it signed may still be valid (and the three newest always are); a token signed with a retired key stops being valid.",
    ),
    ("Vigente", "Current"),
    ("Anterior", "Previous"),
    ("Clave (kid)", "Key (kid)"),
    ("Creada", "Created"),
    (
        "El Súper Administrador no se puede eliminar",
        "The Super Administrator cannot be deleted",
    ),
    ("¿Eliminar el usuario {}?", "Delete the user {}?"),
    (
        "Perderá el acceso. No se puede deshacer.",
        "They will lose access. This cannot be undone.",
    ),
    (
        "¿Eliminar el grupo de permisos {}?",
        "Delete the permission group {}?",
    ),
    ("No se puede deshacer.", "This cannot be undone."),
    ("Consumidor guardado", "Consumer saved"),
    ("Consumidores", "Consumers"),
    ("Consumidores OAuth", "OAuth consumers"),
    ("Contraseña", "Password"),
    ("Contraseña actual", "Current password"),
    ("Contraseña cambiada", "Password changed"),
    ("Contraseña nueva", "New password"),
    ("Copiar", "Copy"),
    ("Copiar API Key", "Copy API Key"),
    ("Copiar Clave", "Copy Key"),
    ("Creado", "Created"),
    ("Crear cuenta", "Create account"),
    ("Credenciales", "Credentials"),
    (
        "Cree la cuenta y su Súper Administrador.",
        "Create the account and its super administrator.",
    ),
    (
        "Cree primero un grupo de permisos (Cuentas de Usuarios → Permisos)",
        "Create a permission group first (User accounts → Permissions)",
    ),
    ("Cuenta actualizada", "Account updated"),
    (
        "Cuenta creada. Inicie sesión.",
        "Account created. Please sign in.",
    ),
    (
        "Cuenta creada. Iniciando sesión…",
        "Account created. Signing in…",
    ),
    ("Descripción", "Description"),
    ("Desde", "From"),
    ("Desde (AAAA-MM-DD)", "From (YYYY-MM-DD)"),
    ("Desde/Hasta", "From/To"),
    ("Deshabilitado", "Disabled"),
    ("Día anterior", "Previous day"),
    ("Día siguiente", "Next day"),
    ("Editar", "Edit"),
    ("Editar Cliente OAuth", "Edit OAuth client"),
    ("Editar grupo de permisos", "Edit permission group"),
    ("Editar usuario", "Edit user"),
    ("El anterior vale hasta", "Previous valid until"),
    ("Eliminar", "Delete"),
    (
        "Esta consola no administra «{}». Use la aplicación web para esta sección.",
        "This console does not manage «{}». Use the web application for this section.",
    ),
    ("Estado", "State"),
    ("Fecha", "Date"),
    ("Fecha de creación", "Created on"),
    (
        "Fecha inválida: use AAAA-MM-DD",
        "Invalid date: use YYYY-MM-DD",
    ),
    ("Filtrar", "Filter"),
    ("Filtrar Log de Transacciones", "Filter transaction log"),
    ("Filtrar por nombre o clave", "Filter by name or key"),
    ("Formato del token", "Token format"),
    ("Algoritmo de firma", "Signing algorithm"),
    ("Algoritmo", "Algorithm"),
    (
        "Con 127.0.0.1 o [::1] vale cualquier puerto; localhost y las demás, exactas",
        "127.0.0.1 and [::1] match on any port; localhost and others, exactly",
    ),
    ("Grupo de Permisos", "Permission group"),
    ("Grupo de permisos", "Permission group"),
    ("Grupo de permisos guardado", "Permission group saved"),
    ("Grupos de permisos", "Permission groups"),
    ("Guardando…", "Saving…"),
    ("Guardar", "Save"),
    ("Guardar nombre", "Save name"),
    (
        "Guarde el secreto ahora: no se volverá a mostrar.",
        "Save the secret now: it will not be shown again.",
    ),
    ("Habilitar/Deshabilitar", "Enable/Disable"),
    ("Hasta", "To"),
    ("Hasta (AAAA-MM-DD)", "To (YYYY-MM-DD)"),
    (
        "Hay cambios sin guardar. ¿Cerrar de todos modos?",
        "There are unsaved changes. Close anyway?",
    ),
    (
        "Hay cambios sin guardar. ¿Salir de todos modos?",
        "There are unsaved changes. Leave anyway?",
    ),
    ("Inactivo", "Disabled"),
    ("Iniciar sesión", "Sign in"),
    ("Ir al contenido", "Go to content"),
    (
        "La sesión expiró. Inicie sesión de nuevo.",
        "The session expired. Please sign in again.",
    ),
    ("Las contraseñas no coinciden", "The passwords do not match"),
    ("Marcar casilla", "Toggle checkbox"),
    ("Menú de usuario", "User menu"),
    ("Menú lateral", "Sidebar"),
    (
        "Modificado por otro usuario. Ctrl+R recarga sin perder lo escrito.",
        "Changed by another user. Ctrl+R reloads and keeps what you typed.",
    ),
    ("Mover", "Move"),
    (
        "Método de autenticación deprecado, te invitamos a usar OAuth2",
        "Deprecated authentication method, please use OAuth2",
    ),
    ("Módulo", "Module"),
    ("Módulos", "Modules"),
    ("Ninguno (inmediato)", "None (immediate)"),
    ("No hay consumidores.", "No consumers."),
    ("No hay usuarios.", "No users."),
    (
        "No hay usuarios. Pulse + para crear uno.",
        "No users. Press + to create one.",
    ),
    ("No hay grupos de permisos.", "No permission groups."),
    (
        "No hay grupos de permisos. Pulse + para crear uno.",
        "No permission groups. Press + to create one.",
    ),
    (
        "No hay eventos con este filtro. Pulse / para cambiarlo.",
        "No events with this filter. Press / to change it.",
    ),
    (
        "No se emitieron tokens en este rango.",
        "No tokens were issued in this range.",
    ),
    (
        "No hay consumidores. Pulse + para crear uno.",
        "No consumers. Press + to create one.",
    ),
    (
        "No se pudo copiar al portapapeles",
        "Could not copy to the clipboard",
    ),
    ("Nombre", "Name"),
    ("Nombre de la cuenta", "Account name"),
    ("Nombre para mostrar", "Display name"),
    ("Nuevo", "New"),
    ("Nuevo grupo de permisos", "New permission group"),
    ("Nuevo usuario", "New user"),
    ("Nuevo(a) Cliente OAuth", "New OAuth client"),
    ("Objetivo", "Target"),
    ("Opaco", "Opaque"),
    (
        "Periodo de gracia del secreto anterior",
        "Grace period for the previous secret",
    ),
    ("Permisos", "Permissions"),
    ("Permisos por módulo", "Permissions per module"),
    ("Pestaña", "Tab"),
    ("Pestaña API Key", "API Key tab"),
    ("Página anterior", "Previous page"),
    ("Página siguiente", "Next page"),
    (
        "Recargado. Guardar aplicará lo escrito sobre la versión actual.",
        "Reloaded. Save applies what you typed over the current version.",
    ),
    (
        "Recargar (conserva lo escrito)",
        "Reload (keeps what you typed)",
    ),
    ("Regenerar", "Regenerate"),
    ("Reintentar", "Retry"),
    ("Repetir contraseña", "Repeat password"),
    ("Repetir contraseña nueva", "Repeat new password"),
    ("Revocar tokens existentes", "Revoke existing tokens"),
    ("Rol", "Role"),
    ("Rotar", "Rotate"),
    ("Rotar secreto", "Rotate secret"),
    ("Salir", "Quit"),
    ("Secreto", "Secret"),
    ("Secreto nuevo", "New secret"),
    ("Secreto rotado", "Secret rotated"),
    ("Siguiente campo", "Next field"),
    (
        "Sin conexión con el servidor.",
        "No connection to the server.",
    ),
    ("Sin sesión", "Signed out"),
    (
        "Solo el Súper Administrador puede acceder al API Secret",
        "Only the super administrator can access the API Secret",
    ),
    (
        "Solo el Súper Administrador puede cambiar el nombre de la cuenta",
        "Only the super administrator can rename the account",
    ),
    ("Solo lectura", "Read only"),
    (
        "Su rol no permite ver el Log de Transacciones.",
        "Your role cannot see the transaction log.",
    ),
    (
        "Su rol no permite ver los usuarios.",
        "Your role cannot see the users.",
    ),
    (
        "Sus tokens dejarán de funcionar. No se puede deshacer.",
        "Its tokens will stop working. This cannot be undone.",
    ),
    ("Sí", "Yes"),
    ("Ver detalle", "Details"),
    (
        "Terminal demasiado pequeña ({}). Mínimo {}.",
        "Terminal too small ({}). Minimum {}.",
    ),
    ("Tipo", "Type"),
    ("Tipo de autorización", "Grant type"),
    ("Todas", "All"),
    ("Tokens emitidos", "Tokens issued"),
    ("Tokens emitidos por día", "Tokens issued per day"),
    ("URL de retorno", "Redirect URL"),
    ("Usuario", "User"),
    ("Usuario guardado", "User saved"),
    ("Usuario o contraseña incorrectos", "Wrong user or password"),
    ("Usuarios", "Users"),
    ("Volver al Dashboard", "Back to the dashboard"),
    ("{} activos", "{} enabled"),
    ("Copiado: {}", "Copied: {}"),
    ("portapapeles local", "local clipboard"),
    ("OSC 52 vía tmux", "OSC 52 via tmux"),
    ("OSC 52 vía screen", "OSC 52 via screen"),
    ("OSC 52", "OSC 52"),
    ("filtro: {}", "filter: {}"),
    ("{} — F5 reintenta", "{} — F5 retries"),
    ("¿Eliminar el consumidor {}?", "Delete the consumer {}?"),
    (
        "¿Mostrar el API Secret? Quedará registrado en el Log de Transacciones.",
        "Show the API Secret? It will be recorded in the transaction log.",
    ),
    (
        "¿Regenerar la API Key? Las integraciones que usan la actual dejarán de funcionar.",
        "Regenerate the API Key? Integrations using the current one will stop working.",
    ),
    ("Cuentas de Usuarios", "User accounts"),
    ("Calendario Laboral", "Work calendar"),
    ("Financiero", "Financial"),
    ("Catálogos Auxiliares", "Auxiliary catalogs"),
    ("Gestión Documental", "Document management"),
    ("Log de Transacciones", "Transaction log"),
    ("Seguridad", "Security"),
    ("Conexiones API", "API connections"),
    ("Portal de Invitados", "Guest portal"),
    ("Cuenta", "Account"),
    ("Claves SSH", "SSH keys"),
    (
        "Con una de estas claves, ssh abre la consola como usted.",
        "With one of these keys, ssh opens the console as you.",
    ),
    (
        "Enter sobre una clave la elimina.",
        "Enter on a key removes it.",
    ),
    ("Añadir clave SSH…", "Add SSH key…"),
    ("Clave pública", "Public key"),
    (
        "Pegue la línea de su archivo .pub (por ejemplo ~/.ssh/id_ed25519.pub).",
        "Paste the line of your .pub file (for example ~/.ssh/id_ed25519.pub).",
    ),
    ("Nueva clave SSH", "New SSH key"),
    ("¿Eliminar la clave SSH {}?", "Remove the SSH key {}?"),
    (
        "Sus sesiones SSH abiertas con ella terminan.",
        "Your SSH sessions opened with it end.",
    ),
    ("Clave SSH añadida", "SSH key added"),
    ("Clave SSH eliminada", "SSH key removed"),
    ("Método de autenticación", "Authentication method"),
    ("Claves públicas (JWKS)", "Public keys (JWKS)"),
    ("Claves públicas nuevas (JWKS)", "New public keys (JWKS)"),
    (
        "JWKS pública ({\"keys\": [...]}) o su URL https://; nunca la clave privada",
        "Public JWKS ({\"keys\": [...]}) or its https:// URL; never the private key",
    ),
    (
        "Vacío conserva las claves; una JWKS o URL https:// nueva las reemplaza",
        "Empty keeps the keys; a new JWKS or https:// URL replaces them",
    ),
    ("Claves públicas registradas", "Registered public keys"),
    (
        "Solo tokens ligados a una clave (DPoP)",
        "Only key-bound tokens (DPoP)",
    ),
    (
        "Sin prueba DPoP no recibe token; su token solo vale con prueba de su clave",
        "Without a DPoP proof, no token; its token works only with proof of its key",
    ),
    ("sin kid", "no kid"),
    (
        "No es JSON: línea {}, columna {}",
        "Not JSON: line {}, column {}",
    ),
    (
        "Este consumidor usa Clave privada (JWT): no tiene Secreto; cambie sus claves públicas en Editar",
        "This consumer uses a private key (JWT): it has no Secret; change its public keys in Edit",
    ),
    (
        "Es un cliente público: no tiene Secreto; PKCE protege sus códigos",
        "It is a public client: it has no Secret; PKCE protects its codes",
    ),
    ("Ninguno (cliente público)", "None (public client)"),
    ("Publicadas en {}", "Published at {}"),
    // Clients that register themselves.
    ("¿Rechazar el cliente {}?", "Reject the client {}?"),
    (
        "No recibirá códigos ni tokens; queda en la lista como Rechazado.",
        "It will get no codes and no tokens; it stays in the list as Rejected.",
    ),
    ("Aprobar", "Approve"),
    ("Rechazar", "Reject"),
    ("Pestaña Recursos protegidos", "Protected resources tab"),
    ("Registro de clientes", "Client registration"),
    ("Registro de clientes: {}", "Client registration: {}"),
    (
        "Cliente pendiente de aprobación",
        "Client awaiting approval",
    ),
    ("Aprobar cliente", "Approve client"),
    ("Cliente {}", "Client {}"),
    ("Política de registro guardada", "Registration policy saved"),
    (
        "Cliente {} aprobado en el grupo {}",
        "Client {} approved into the group {}",
    ),
    ("Cliente {} rechazado", "Client {} rejected"),
    ("Registro", "Registration"),
    ("Metadatos", "Metadata"),
    ("Aprobado", "Approved"),
    ("Pendiente", "Pending"),
    ("Rechazado", "Rejected"),
    ("Origen", "Origin"),
    ("Consola", "Console"),
    ("Registro dinámico", "Dynamic registration"),
    ("Documento de metadatos", "Metadata document"),
    ("URL del documento", "Document URL"),
    ("Host del documento", "Document host"),
    ("Hosts de retorno", "Redirect hosts"),
    ("Política", "Policy"),
    ("Grupo de los clientes nuevos", "Group for new clients"),
    ("Cambiada por", "Changed by"),
    (
        "Ningún cliente se registra solo: el registro no se ofrece en los metadatos",
        "No client registers itself: the metadata offers no registration",
    ),
    (
        "Un cliente nuevo queda Pendiente, sin tokens, hasta que el Súper Administrador lo apruebe (a) en un grupo; se propone este",
        "A new client stays Pending, with no tokens, until the Super Administrator approves it (a) into a group; this one is proposed",
    ),
    (
        "Un cliente nuevo entra directo en este grupo y obtiene tokens sin revisión",
        "A new client goes straight into this group and gets tokens without review",
    ),
    (
        "Solo el Súper Administrador puede cambiar la política de registro",
        "Only the Super Administrator can change the registration policy",
    ),
    // Protected resources.
    ("Recursos protegidos", "Protected resources"),
    ("Recursos protegidos ({})", "Protected resources ({})"),
    ("Pestaña Consumidores OAuth", "OAuth consumers tab"),
    ("URL", "URL"),
    ("Copiar URL", "Copy URL"),
    (
        "https://… (o http:// hacia localhost), sin fragmento: el aud de los tokens pedidos para este recurso",
        "https://… (or http:// to localhost), no fragment: the aud of tokens asked for this resource",
    ),
    (
        "Solo el Súper Administrador puede agregar o eliminar recursos protegidos",
        "Only the Super Administrator can add or delete protected resources",
    ),
    (
        "¿Eliminar el recurso protegido {}?",
        "Delete the protected resource {}?",
    ),
    (
        "Los clientes ya no podrán pedir tokens para él. No se puede deshacer.",
        "Clients will no longer get tokens for it. This cannot be undone.",
    ),
    ("Nuevo recurso protegido", "New protected resource"),
    ("Recurso protegido creado", "Protected resource created"),
    ("Recurso protegido eliminado", "Protected resource deleted"),
    (
        "No hay recursos protegidos. Pulse + para crear uno.",
        "No protected resources. Press + to create one.",
    ),
    ("No hay recursos protegidos.", "No protected resources."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_has_no_duplicate_keys() {
        let mut keys: Vec<_> = ENGLISH.iter().map(|(k, _)| *k).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len());
        assert_eq!(Lang::En.t("Guardar"), "Save");
        assert_eq!(Lang::Es.t("Guardar"), "Guardar");
    }
}
