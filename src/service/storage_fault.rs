//! What a user is told about each storage fault the store names: said once, for the API's
//! problems and the token endpoint's errors alike (the store itself holds no user-facing text).

impl crate::store::Fault {
    /// What the caller is told: nothing was stored, and why.
    pub fn detail(self) -> &'static str {
        use crate::store::Fault;
        match self {
            Fault::StorageFull => {
                "Almacenamiento lleno: el cambio no se guardó; reintente cuando haya espacio libre"
            }
            Fault::ReadOnly => {
                "La base de datos es de solo lectura: el cambio no se guardó; reintente más tarde"
            }
            Fault::Io => {
                "Error de entrada/salida en la base de datos: el cambio no se guardó; reintente más tarde"
            }
            Fault::Locked => {
                "Otro proceso bloquea la base de datos: el cambio no se guardó; reintente más tarde"
            }
            Fault::Unreachable => {
                "La base de datos no responde: el cambio no se guardó; reintente más tarde"
            }
        }
    }
}
