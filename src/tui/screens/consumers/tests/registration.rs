//! The consumer screen and the clients that register themselves: pending rows first,
//! approving, rejecting, the policy.

use super::*;

fn a_group(n: u128, name: &str) -> PermissionGroup {
    PermissionGroup {
        id: Uuid::from_u128(n),
        name: name.into(),
        ..groups().remove(0)
    }
}

/// A client that registered itself and waits for approval, proposed for group 1.
fn pending(n: u128, name: &str) -> Consumer {
    Consumer {
        id: Uuid::from_u128(100 + n),
        name: name.into(),
        client_id: format!("clave-{n}"),
        grant_type: GrantType::AuthorizationCode,
        redirect_uris: vec![
            "http://127.0.0.1:9/cb".into(),
            "http://127.0.0.1:9/otra".into(),
        ],
        origin: ConsumerOrigin::Registration,
        approval: Approval::Pending,
        ..a_consumer(AuthMethod::Public)
    }
}

fn console_made(n: u128, name: &str) -> Consumer {
    Consumer {
        id: Uuid::from_u128(100 + n),
        name: name.into(),
        client_id: format!("clave-{n}"),
        ..a_consumer(AuthMethod::ClientSecret)
    }
}

fn policy(policy: RegistrationPolicy, group: Option<u128>) -> RegistrationSettings {
    RegistrationSettings {
        policy,
        group_id: group.map(Uuid::from_u128),
        group_name: group.map(|_| "Agentes".into()),
        updated_at: chrono::DateTime::UNIX_EPOCH,
        updated_by: "ana".into(),
    }
}

/// Hands the screen the answer to its oldest request named `name`, as the router does.
fn reply(screen: &mut ConsumersScreen, ctx: &mut Context, name: &str, response: Response) {
    let id = oldest(ctx, name);
    let request = ctx.pending.remove(&id).expect("pending");
    let rest = screen.on_response(
        ctx,
        Answer {
            id,
            request,
            response,
        },
    );
    // Groups go on to the other screens too.
    assert!(
        rest.is_none() == (name != "Groups"),
        "{name}: the screen took its answer"
    );
}

/// Hands the screen a refusal of its oldest request named `name`; whether it showed it.
fn refuse(screen: &mut ConsumersScreen, ctx: &mut Context, name: &str, status: u16) -> bool {
    let id = oldest(ctx, name);
    let request = ctx.pending.remove(&id).expect("pending");
    let error = ClientError::Api(Problem {
        kind: "about:blank".into(),
        title: "Error".into(),
        status,
        detail: match status {
            409 => "«Agente MCP» no espera aprobación: está aprobado".into(),
            _ => "Solo el Súper Administrador puede hacerlo".into(),
        },
        errors: Default::default(),
    });
    screen.on_error(ctx, id, &request, &error)
}

fn oldest(ctx: &Context, name: &str) -> RequestId {
    let mut ids: Vec<_> = ctx
        .pending
        .iter()
        .filter(|(_, r)| r.name() == name)
        .map(|(id, _)| *id)
        .collect();
    ids.sort_unstable();
    *ids.first().unwrap_or_else(|| panic!("no pending {name}"))
}

fn sent(ctx: &Context, name: &str) -> bool {
    ctx.pending.values().any(|r| r.name() == name)
}

fn names(screen: &ConsumersScreen) -> Vec<String> {
    screen.table.rows.iter().map(|c| c.name.clone()).collect()
}

fn bar_labels(screen: &ConsumersScreen, ctx: &Context) -> Vec<&'static str> {
    screen
        .bindings(ctx)
        .into_iter()
        .filter(|b| b.in_bar)
        .map(|b| b.label)
        .collect()
}

/// The table opened with `items` in its first page and `waiting` pending, the policy
/// Con aprobación into group 2, and groups 1 and 2 known.
fn opened(ctx: &mut Context, items: Vec<Consumer>, waiting: Vec<Consumer>) -> ConsumersScreen {
    let mut screen = ConsumersScreen {
        groups: vec![a_group(1, "Integraciones"), a_group(2, "Agentes")],
        ..ConsumersScreen::default()
    };
    screen.open(ctx);
    assert!(sent(ctx, "PendingConsumers") && sent(ctx, "RegistrationSettings"));
    let total = items.len() as u64;
    reply(
        &mut screen,
        ctx,
        "Consumers",
        Response::Consumers(Page {
            items,
            next_cursor: None,
            total,
        }),
    );
    reply(
        &mut screen,
        ctx,
        "PendingConsumers",
        Response::PendingConsumers(waiting),
    );
    reply(
        &mut screen,
        ctx,
        "RegistrationSettings",
        Response::RegistrationSettings(policy(RegistrationPolicy::Approval, Some(2))),
    );
    screen
}

#[test]
fn pending_clients_come_first_once_whichever_answer_arrives_first() {
    let agent = pending(1, "Agente MCP");
    let page = vec![console_made(2, "ERP"), agent.clone(), console_made(3, "BI")];
    // The page first, then the pending list: the pending row moves to the top.
    let mut ctx = super_admin();
    let screen = opened(&mut ctx, page.clone(), vec![agent.clone()]);
    assert_eq!(names(&screen), ["Agente MCP", "ERP", "BI"]);
    assert_eq!(screen.table.selected().map(|c| c.id), Some(agent.id));
    assert_eq!(screen.table.seen(), 3, "each row counted once");
    // The pending list first, then the page.
    let mut ctx = super_admin();
    let mut screen = ConsumersScreen::default();
    screen.open(&mut ctx);
    reply(
        &mut screen,
        &mut ctx,
        "PendingConsumers",
        Response::PendingConsumers(vec![agent.clone()]),
    );
    reply(
        &mut screen,
        &mut ctx,
        "Consumers",
        Response::Consumers(Page {
            items: page,
            next_cursor: None,
            total: 3,
        }),
    );
    assert_eq!(names(&screen), ["Agente MCP", "ERP", "BI"]);
    // A filter shows them where the server's filtered list puts them.
    screen.command(&mut ctx, Command::Filter);
    screen.form_mut().expect("filter line").set_text("q", "e");
    screen.command(&mut ctx, Command::Enter);
    reply(
        &mut screen,
        &mut ctx,
        "Consumers",
        Response::Consumers(Page {
            items: vec![console_made(2, "ERP"), agent.clone()],
            next_cursor: None,
            total: 2,
        }),
    );
    assert_eq!(names(&screen), ["ERP", "Agente MCP"]);
}

#[test]
fn a_row_no_longer_pending_brings_the_first_page_again() {
    let mut ctx = super_admin();
    let agent = pending(1, "Agente MCP");
    let mut screen = opened(
        &mut ctx,
        vec![console_made(2, "ERP"), agent.clone()],
        vec![agent.clone()],
    );
    assert!(ctx.pending.is_empty());
    // Approved elsewhere: the next pending list lacks it, and its place is in the pages.
    screen.command(&mut ctx, Command::Refresh);
    reply(
        &mut screen,
        &mut ctx,
        "Consumers",
        Response::Consumers(Page {
            items: vec![console_made(2, "ERP"), agent.clone()],
            next_cursor: None,
            total: 2,
        }),
    );
    reply(
        &mut screen,
        &mut ctx,
        "PendingConsumers",
        Response::PendingConsumers(vec![]),
    );
    assert!(sent(&ctx, "Consumers"), "the first page is asked for again");
}

#[test]
fn the_decision_keys_show_on_a_pending_row_for_the_super_administrator_only() {
    let mut ctx = super_admin();
    let agent = pending(1, "Agente MCP");
    let mut screen = opened(&mut ctx, vec![console_made(2, "ERP")], vec![agent]);
    let bar = bar_labels(&screen, &ctx);
    assert_eq!(&bar[..3], ["Mover", "Aprobar", "Rechazar"], "{bar:?}");
    assert!(bar.contains(&"Ver detalle") && !bar.contains(&"Editar"));
    screen.command(&mut ctx, Command::Down);
    let bar = bar_labels(&screen, &ctx);
    assert!(
        !bar.contains(&"Aprobar") && !bar.contains(&"Rechazar"),
        "{bar:?}"
    );
    assert!(
        !screen
            .bindings(&ctx)
            .iter()
            .any(|b| matches!(b.command, Command::Approve | Command::Reject)),
        "inert on a row that waits for nothing"
    );
    screen.command(&mut ctx, Command::Up);
    // Other roles see it pending, and its detail, but decide nothing.
    for role in [Role::Admin, Role::ReadOnly] {
        if let Some(user) = &mut ctx.user {
            user.role = role;
        }
        let commands: Vec<Command> = screen.bindings(&ctx).iter().map(|b| b.command).collect();
        assert!(!commands.contains(&Command::Approve) && !commands.contains(&Command::Reject));
        screen.command(&mut ctx, Command::Approve);
        screen.command(&mut ctx, Command::Reject);
        assert!(screen.dialog.is_none() && ctx.question.is_none() && ctx.pending.is_empty());
        screen.command(&mut ctx, Command::Enter);
        assert!(matches!(
            screen.dialog,
            Some(ConsumerDialog::Pending { .. })
        ));
        let keys: Vec<Command> = screen.bindings(&ctx).iter().map(|b| b.command).collect();
        assert!(!keys.contains(&Command::Approve), "{role:?}");
        screen.command(&mut ctx, Command::Back);
    }
}

#[test]
fn approving_proposes_the_policy_group_and_sends_the_one_chosen() {
    let mut ctx = super_admin();
    let agent = pending(1, "Agente MCP");
    let mut screen = opened(&mut ctx, vec![], vec![agent.clone()]);
    screen.command(&mut ctx, Command::Approve);
    let Some(ConsumerDialog::Approve(modal)) = &screen.dialog else {
        panic!("the approve modal")
    };
    // The policy's group (2, Agentes), not the one it registered with (1).
    assert_eq!(modal.form.focused_name(), "permission_group_id");
    assert_eq!(modal.form.selected("permission_group_id"), 1);
    let text = form_text(&modal.form);
    for shown in [
        "Registro dinámico",
        "127.0.0.1",
        "Ninguno (cliente público)",
    ] {
        assert!(text.contains(shown), "{shown}:\n{text}");
    }
    assert_eq!(text.matches("127.0.0.1").count(), 1, "each host once");
    // The groups come again (one made since may be the policy's): the proposal holds.
    reply(
        &mut screen,
        &mut ctx,
        "Groups",
        Response::Groups(vec![
            a_group(3, "Nuevo"),
            a_group(1, "Integraciones"),
            a_group(2, "Agentes"),
        ]),
    );
    let Some(ConsumerDialog::Approve(modal)) = &screen.dialog else {
        panic!("the approve modal")
    };
    assert_eq!(
        modal.form.selected("permission_group_id"),
        2,
        "still Agentes"
    );
    // ← Integraciones, then Aprobar.
    screen.command(&mut ctx, Command::Left);
    screen.command(&mut ctx, Command::Save);
    let approval = ctx
        .pending
        .values()
        .find(|r| r.name() == "ApproveConsumer")
        .cloned();
    let Some(Request::ApproveConsumer(id, group)) = approval else {
        panic!("an approval")
    };
    assert_eq!((id, group), (agent.id, Uuid::from_u128(1)));
    let Some(ConsumerDialog::Approve(modal)) = &screen.dialog else {
        panic!("open while waiting")
    };
    assert!(modal.form.busy, "Guardando… while waiting");
    screen.command(&mut ctx, Command::Save);
    let approvals = ctx
        .pending
        .values()
        .filter(|r| r.name() == "ApproveConsumer");
    assert_eq!(approvals.count(), 1, "one approval at a time");
    let approved = Consumer {
        approval: Approval::Approved,
        permission_group_id: Uuid::from_u128(1),
        permission_group_name: "Integraciones".into(),
        ..agent
    };
    reply(
        &mut screen,
        &mut ctx,
        "ApproveConsumer",
        Response::Decided(approved),
    );
    assert!(screen.dialog.is_none());
    let toast = ctx.toast.as_ref().map(|t| t.1.clone()).unwrap_or_default();
    assert_eq!(
        toast,
        "Cliente «Agente MCP» aprobado en el grupo «Integraciones»"
    );
    assert!(screen.pending.is_empty());
    for name in ["PendingConsumers", "Consumers"] {
        assert!(sent(&ctx, name), "{name}: the table is refreshed");
    }
}

/// The console knew no group when it opened (they were made afterwards): the policy's is
/// proposed once they arrive, and so is it in the policy form.
#[test]
fn groups_that_arrive_after_the_modal_opened_propose_the_policy_group() {
    let mut ctx = super_admin();
    let mut screen = opened(&mut ctx, vec![], vec![pending(1, "Agente MCP")]);
    screen.groups.clear();
    let late = vec![a_group(1, "Integraciones"), a_group(2, "Agentes")];
    screen.command(&mut ctx, Command::Approve);
    reply(
        &mut screen,
        &mut ctx,
        "Groups",
        Response::Groups(late.clone()),
    );
    let Some(ConsumerDialog::Approve(modal)) = &screen.dialog else {
        panic!("the approve modal")
    };
    assert_eq!(modal.form.selected("permission_group_id"), 1, "Agentes");
    assert!(
        modal
            .form
            .field("permission_group_id")
            .is_some_and(|f| f.error.is_none()),
        "the hint to create a group goes"
    );
    screen.command(&mut ctx, Command::Back);
    screen.groups.clear();
    screen.command(&mut ctx, Command::Policy);
    reply(&mut screen, &mut ctx, "Groups", Response::Groups(late));
    let Some(ConsumerDialog::Policy(modal)) = &screen.dialog else {
        panic!("the policy form")
    };
    assert_eq!(modal.form.selected("group_id"), 1, "Agentes");
}

#[test]
fn an_approval_refused_stays_in_the_modal_and_a_taken_decision_refreshes() {
    let mut ctx = super_admin();
    let agent = pending(1, "Agente MCP");
    let mut screen = opened(&mut ctx, vec![], vec![agent]);
    screen.command(&mut ctx, Command::Approve);
    screen.command(&mut ctx, Command::Left);
    screen.command(&mut ctx, Command::Save);
    assert!(refuse(&mut screen, &mut ctx, "ApproveConsumer", 403));
    let Some(ConsumerDialog::Approve(modal)) = &screen.dialog else {
        panic!("the modal stays")
    };
    assert!(!modal.form.busy);
    assert_eq!(
        modal.form.selected("permission_group_id"),
        0,
        "the choice kept"
    );
    assert!(
        modal.form.error.as_deref() == Some("Solo el Súper Administrador puede hacerlo"),
        "{:?}",
        modal.form.error
    );
    assert!(!sent(&ctx, "PendingConsumers"));
    // Decided by another admin meanwhile: said in the modal, and the table catches up.
    screen.command(&mut ctx, Command::Save);
    assert!(refuse(&mut screen, &mut ctx, "ApproveConsumer", 409));
    let Some(ConsumerDialog::Approve(modal)) = &screen.dialog else {
        panic!("the modal stays")
    };
    assert!(
        modal
            .form
            .error
            .as_deref()
            .is_some_and(|e| e.contains("no espera aprobación"))
    );
    assert!(sent(&ctx, "PendingConsumers") && sent(&ctx, "Consumers"));
}

#[test]
fn rejecting_asks_first_and_says_why_when_refused() {
    let mut ctx = super_admin();
    let agent = pending(1, "Agente MCP");
    let mut screen = opened(&mut ctx, vec![], vec![agent.clone()]);
    screen.command(&mut ctx, Command::Reject);
    let question = ctx.question.take().expect("asks first");
    assert!(
        question
            .message
            .contains("¿Rechazar el cliente «Agente MCP»?")
            && question.message.contains("Rechazado"),
        "{}",
        question.message
    );
    assert!(ctx.pending.is_empty(), "nothing sent before yes");
    let Then::Send(request) = question.then else {
        panic!("yes sends")
    };
    assert!(matches!(request, Request::RejectConsumer(id) if id == agent.id));
    // Yes, as the router does it.
    ctx.send(request.clone());
    assert!(refuse(&mut screen, &mut ctx, "RejectConsumer", 409));
    let toast = ctx.toast.as_ref().map(|t| t.1.clone()).unwrap_or_default();
    assert!(toast.contains("no espera aprobación"), "{toast}");
    assert!(sent(&ctx, "PendingConsumers"), "the table catches up");
    ctx.pending.clear();
    ctx.send(request);
    let rejected = Consumer {
        approval: Approval::Rejected,
        ..agent
    };
    reply(
        &mut screen,
        &mut ctx,
        "RejectConsumer",
        Response::Decided(rejected),
    );
    let toast = ctx.toast.as_ref().map(|t| t.1.clone()).unwrap_or_default();
    assert_eq!(toast, "Cliente «Agente MCP» rechazado");
    assert_eq!(
        screen.table.rows[0].approval,
        Approval::Rejected,
        "shown as it is now"
    );
    // From the detail too.
    ctx.pending.clear();
    let mut screen = opened(&mut ctx, vec![], vec![pending(2, "Otro agente")]);
    screen.command(&mut ctx, Command::Enter);
    screen.command(&mut ctx, Command::Reject);
    assert!(screen.dialog.is_none() && ctx.question.is_some());
}

#[test]
fn a_pending_clients_detail_says_where_it_came_from_and_where_its_codes_go() {
    let consumer = pending(1, "Agente MCP");
    let state = |consumer: &Consumer| -> String {
        let text = form_text(&detail(Lang::Es, consumer));
        let line = text.lines().find(|l| l.trim_start().starts_with("Estado"));
        line.unwrap_or_default()
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(state(&consumer), "Pendiente");
    let text = form_text(&detail(Lang::Es, &consumer));
    for shown in [
        "Origen",
        "Registro dinámico",
        "Hosts de retorno",
        "127.0.0.1",
        "Código de autorización",
        "Ninguno (cliente público)",
        "http://127.0.0.1:9/cb",
    ] {
        assert!(text.contains(shown), "{shown}:\n{text}");
    }
    let document = Consumer {
        client_id: "https://app.example.com/oauth/client.json".into(),
        origin: ConsumerOrigin::MetadataDocument,
        redirect_uris: vec!["https://app.example.com/callback".into()],
        ..consumer.clone()
    };
    let text = form_text(&detail(Lang::Es, &document));
    for shown in [
        "Documento de metadatos",
        "URL del documento",
        "https://app.example.com/oauth/client.json",
        "Host del documento",
        "app.example.com",
    ] {
        assert!(text.contains(shown), "{shown}:\n{text}");
    }
    let rejected = Consumer {
        approval: Approval::Rejected,
        ..consumer
    };
    assert_eq!(state(&rejected), "Rechazado");
    // One made in the console says nothing of an origin.
    let made = a_consumer(AuthMethod::ClientSecret);
    assert_eq!(state(&made), "Activo");
    let text = form_text(&detail(Lang::Es, &made));
    assert!(!text.contains("Origen"), "{text}");
    let english = form_text(&detail(Lang::En, &document));
    assert!(english.contains("Metadata document") && english.contains("Pending"));
}

#[test]
fn the_policy_form_sends_the_policy_and_keeps_what_was_chosen_when_refused() {
    let mut ctx = super_admin();
    let mut screen = opened(&mut ctx, vec![], vec![]);
    screen.command(&mut ctx, Command::Policy);
    let Some(ConsumerDialog::Policy(modal)) = &screen.dialog else {
        panic!("the policy form")
    };
    assert_eq!(modal.policy(), RegistrationPolicy::Approval, "as it is");
    assert_eq!(modal.form.selected("group_id"), 1, "its group (Agentes)");
    let hint = |screen: &ConsumersScreen| match &screen.dialog {
        Some(ConsumerDialog::Policy(m)) => m.form.field("policy_hint").expect("hint").label.clone(),
        _ => panic!("the policy form"),
    };
    assert!(hint(&screen).contains("Pendiente"));
    // → Abierto: the hint follows.
    screen.command(&mut ctx, Command::Right);
    assert!(hint(&screen).contains("sin revisión"), "{}", hint(&screen));
    screen.command(&mut ctx, Command::Save);
    let sent_policy = ctx
        .pending
        .values()
        .find(|r| r.name() == "SetRegistrationSettings")
        .cloned();
    let Some(Request::SetRegistrationSettings(patch)) = sent_policy else {
        panic!("the policy is sent")
    };
    assert_eq!(patch.policy, RegistrationPolicy::Open);
    assert_eq!(patch.group_id, Some(Uuid::from_u128(2)));
    // A 422 beside the group, with Abierto still chosen.
    let id = oldest(&ctx, "SetRegistrationSettings");
    let request = ctx.pending.remove(&id).expect("pending");
    let error = ClientError::Api(Problem {
        kind: "urn:consola:validation".into(),
        title: "Error".into(),
        status: 422,
        detail: "Datos inválidos".into(),
        errors: [(
            "group_id".to_string(),
            "Elija el grupo de permisos de los clientes nuevos".to_string(),
        )]
        .into(),
    });
    assert!(screen.on_error(&mut ctx, id, &request, &error));
    let Some(ConsumerDialog::Policy(modal)) = &screen.dialog else {
        panic!("the form stays")
    };
    assert_eq!(modal.policy(), RegistrationPolicy::Open);
    assert_eq!(modal.form.focused_name(), "group_id");
    assert_eq!(
        modal
            .form
            .field("group_id")
            .and_then(|f| f.error.as_deref()),
        Some("Elija el grupo de permisos de los clientes nuevos")
    );
    // Saved: the table's title follows, the toast says so.
    screen.command(&mut ctx, Command::Save);
    reply(
        &mut screen,
        &mut ctx,
        "SetRegistrationSettings",
        Response::RegistrationSettings(policy(RegistrationPolicy::Open, Some(2))),
    );
    assert!(screen.dialog.is_none());
    assert_eq!(
        screen.registration.as_ref().map(|s| s.policy),
        Some(RegistrationPolicy::Open)
    );
    let toast = ctx.toast.as_ref().map(|t| t.1.clone()).unwrap_or_default();
    assert_eq!(toast, "Política de registro guardada");
}

#[test]
fn others_read_the_policy_and_cannot_send_it() {
    let mut ctx = super_admin();
    if let Some(user) = &mut ctx.user {
        user.role = Role::Admin;
    }
    let mut screen = opened(&mut ctx, vec![], vec![]);
    screen.command(&mut ctx, Command::Policy);
    let Some(ConsumerDialog::Policy(modal)) = &screen.dialog else {
        panic!("the policy, read-only")
    };
    assert!(
        modal
            .form
            .fields
            .iter()
            .all(|f| !matches!(f.kind, Kind::Select { .. }))
    );
    let text = form_text(&modal.form);
    assert!(
        text.contains("Con aprobación")
            && text.contains("Agentes")
            && text.contains("Solo el Súper Administrador puede cambiar"),
        "{text}"
    );
    screen.command(&mut ctx, Command::Right);
    screen.command(&mut ctx, Command::Save);
    assert!(
        !sent(&ctx, "SetRegistrationSettings") && !sent(&ctx, "Groups"),
        "{:?}",
        ctx.pending
    );
    assert!(screen.dialog.is_none(), "Ctrl+S closes it");
}

#[test]
fn a_policy_nobody_changed_says_so_instead_of_a_date() {
    let never = RegistrationSettings {
        updated_by: String::new(),
        ..policy(RegistrationPolicy::Off, None)
    };
    for can_write in [true, false] {
        let modal = PolicyModal::new(Lang::Es, &never, &groups(), can_write);
        let text = form_text(&modal.form);
        let line = text.lines().find(|l| l.contains("Cambiada por"));
        assert!(line.is_some_and(|l| l.trim_end().ends_with('—')), "{text}");
        assert!(!text.contains("1970"), "{text}");
    }
    let modal = PolicyModal::new(Lang::Es, &policy(RegistrationPolicy::Off, None), &[], true);
    assert!(form_text(&modal.form).contains("ana · 1970-01-01 00:00"));
}

#[test]
fn p_before_the_policy_arrived_opens_it_when_it_does() {
    let mut ctx = super_admin();
    let mut screen = ConsumersScreen::default();
    screen.command(&mut ctx, Command::Policy);
    assert!(screen.dialog.is_none());
    reply(
        &mut screen,
        &mut ctx,
        "RegistrationSettings",
        Response::RegistrationSettings(policy(RegistrationPolicy::Off, None)),
    );
    assert!(matches!(screen.dialog, Some(ConsumerDialog::Policy(_))));
}
