//! The sections of the Configuración sidebar, in its order: what the sidebar lists, what a
//! click on it opens and what the settings screen routes by.

/// Settings sections, in the sidebar's order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Section {
    #[default]
    General,
    Users,
    WorkCalendar,
    Modules,
    Financial,
    Catalogs,
    Documents,
    Audit,
    Security,
    Api,
    GuestPortal,
    Account,
}

impl Section {
    pub const ALL: [Section; 12] = [
        Section::General,
        Section::Users,
        Section::WorkCalendar,
        Section::Modules,
        Section::Financial,
        Section::Catalogs,
        Section::Documents,
        Section::Audit,
        Section::Security,
        Section::Api,
        Section::GuestPortal,
        Section::Account,
    ];

    /// The sidebar's label (Spanish source text).
    pub fn label(self) -> &'static str {
        match self {
            Section::General => "General",
            Section::Users => "Cuentas de Usuarios",
            Section::WorkCalendar => "Calendario Laboral",
            Section::Modules => "Módulos",
            Section::Financial => "Financiero",
            Section::Catalogs => "Catálogos Auxiliares",
            Section::Documents => "Gestión Documental",
            Section::Audit => "Log de Transacciones",
            Section::Security => "Seguridad",
            Section::Api => "Conexiones API",
            Section::GuestPortal => "Portal de Invitados",
            Section::Account => "Cuenta",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn step(self, by: isize) -> Section {
        let n = Section::ALL.len() as isize;
        let i = (self.index() as isize + by).rem_euclid(n);
        Section::ALL[i as usize]
    }
}
