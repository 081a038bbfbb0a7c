//! The IoT modules on the chain without consensus (two nodes re-executing every block):
//! devices and gateways, signed readings, services, grants and the audit trail, and every bad
//! path refused with the rule it broke and nothing changed.

use bot_chain::iot::{
    AccessPolicy, CallbackRun, CommandState, DeviceFilter, DeviceSigner, DeviceStatus, IotTx,
    KeyType, Right, reading_digest, registration_digest, response_digest, rotation_digest,
    verify_grant_proof,
};
use bot_chain::{Genesis, Keypair, Mode, Receipt, SignedTx, TxKind, layout};
use bot_engine::Address;

use crate::chain::{CHAIN, Node, call, deploy_counter, genesis, node, produce, sign};

const T0: u64 = 1_700_000_010_000;

/// Two nodes on one open chain, with a block clock and each account's next nonce.
struct Net {
    a: Node,
    b: Node,
    time: u64,
    nonces: std::collections::HashMap<Address, u64>,
}

impl Net {
    fn new(genesis: Genesis) -> Net {
        Net {
            a: node(&genesis),
            b: node(&genesis),
            time: T0,
            nonces: Default::default(),
        }
    }

    fn open() -> Net {
        let mut g = genesis(Mode::Open);
        g.params.reading_retention = 3;
        Net::new(g)
    }

    fn tx(&mut self, key: &Keypair, kind: TxKind) -> SignedTx {
        self.tx_with_gas(key, kind, crate::chain::GAS)
    }

    fn tx_with_gas(&mut self, key: &Keypair, kind: TxKind, gas_limit: u64) -> SignedTx {
        let nonce = self.nonces.entry(key.address()).or_default();
        let mut tx = sign(key, *nonce, kind).tx;
        tx.gas_limit = gas_limit;
        *nonce += 1;
        SignedTx::sign(tx, key)
    }

    /// Commits one block of `txs`; the receipts (the transactions', then those of commands
    /// that timed out at the block's end).
    fn block(&mut self, txs: Vec<SignedTx>) -> Vec<Receipt> {
        self.time += 1_000;
        let (block, receipts) = produce(&[&self.a, &self.b], txs, self.time);
        assert_eq!(self.a.chain.head().unwrap(), self.b.chain.head().unwrap());
        assert!(block.txs.len() <= receipts.len());
        receipts
    }

    /// Commits `op` signed by `key` alone in a block; its receipt.
    fn run(&mut self, key: &Keypair, op: IotTx) -> Receipt {
        let tx = self.tx(key, TxKind::Iot(op));
        self.block(vec![tx]).remove(0)
    }

    fn ok(&mut self, key: &Keypair, op: IotTx) -> Receipt {
        let name = op.name();
        let r = self.run(key, op);
        assert!(r.is_ok(), "{name}: {:?}", r.error);
        r
    }

    /// Runs `op`, expects it refused with `kind`, and checks that the state root did not move
    /// except for the signer's nonce: the state is the same as before but for that account.
    fn refused(&mut self, key: &Keypair, op: IotTx, kind: &str, says: &str) {
        let before = self.state_without_nonces();
        let r = self.run(key, op);
        let error = r.error.as_ref().expect("refused");
        assert_eq!(error.kind.name(), kind, "{}", error.message);
        assert!(
            error.message.contains(says),
            "`{}` does not say `{says}`",
            error.message
        );
        assert!(r.events.is_empty());
        assert_eq!(
            self.state_without_nonces(),
            before,
            "a refused {kind} changed state"
        );
    }

    /// Every IoT entry (`i…` keys) and contract entry, as committed.
    fn state_without_nonces(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let view = self.a.chain.view().unwrap();
        let mut all = view.scan_prefix(b"i", None, false, 100_000).unwrap();
        all.extend(view.scan_prefix(b"s", None, false, 100_000).unwrap());
        all
    }

    /// The decoded result of a read-only `method` of `contract` on the committed state.
    fn query<T: borsh::BorshDeserialize>(
        &self,
        contract: Address,
        method: &str,
        args: Vec<u8>,
    ) -> T {
        let out = self
            .a
            .chain
            .query(contract, method, args, crate::chain::GAS)
            .unwrap();
        borsh::from_slice(&out.result.unwrap()).unwrap()
    }

    fn device(&self, id: &Address) -> bot_chain::iot::Device {
        self.a
            .chain
            .view()
            .unwrap()
            .device(id)
            .unwrap()
            .expect("registered")
    }
}

fn register(
    chain_owner: &Address,
    device: &DeviceSigner,
    gateway: Option<Address>,
    owner: Option<Address>,
) -> IotTx {
    let key = device.public();
    let proof = device.sign(&registration_digest(
        CHAIN,
        &key,
        &owner.unwrap_or(*chain_owner),
        gateway.as_ref(),
    ));
    IotTx::RegisterDevice {
        key,
        kind: "thermometer".into(),
        metadata: r#"{"room":"lab"}"#.into(),
        owner,
        gateway,
        proof,
    }
}

fn report(device: &DeviceSigner, stream: &str, counter: u64, value: f64) -> IotTx {
    let id = device.public().device_id();
    let data = format!(r#"{{"celsius":{value}}}"#).into_bytes();
    IotTx::Report {
        device: id,
        stream: stream.into(),
        counter,
        signature: device.sign(&reading_digest(CHAIN, &id, stream, counter, &data)),
        data,
    }
}

#[test]
fn a_device_registers_reports_signed_readings_and_replays_are_refused() {
    let mut net = Net::open();
    let owner = Keypair::dev("dev0");
    let stranger = Keypair::dev("dev2");
    // A device with its own secp256k1 account: its id is that account's address.
    let thermo = DeviceSigner::dev(KeyType::Secp256k1, "thermo");
    let thermo_account = Keypair::from_secret(&thermo.secret()).unwrap();
    let id = thermo.public().device_id();
    assert_eq!(id, thermo_account.address());

    let r = net.ok(&owner, register(&owner.address(), &thermo, None, None));
    assert_eq!(r.events[0].name, "device.registered");
    assert!(
        r.gas_used > 1_500_000,
        "pays for its writes and the proof check"
    );
    let d = net.device(&id);
    assert_eq!(
        (d.owner, d.status, d.counter),
        (owner.address(), DeviceStatus::Active, 0)
    );

    // Registering the same key again, or a key whose proof does not match, is refused.
    net.refused(
        &owner,
        register(&owner.address(), &thermo, None, None),
        "already_registered",
        "already registered",
    );
    let other = DeviceSigner::dev(KeyType::Secp256k1, "other");
    let IotTx::RegisterDevice { proof, .. } = register(&owner.address(), &thermo, None, None)
    else {
        unreachable!()
    };
    let mut forged = register(&owner.address(), &other, None, None);
    if let IotTx::RegisterDevice { proof: p, .. } = &mut forged {
        *p = proof;
    }
    net.refused(
        &owner,
        forged,
        "invalid_proof",
        "not the device key's signature",
    );

    // The device reports for itself; counters must rise.
    for (counter, value) in [(1, 20.5), (2, 21.0), (5, 21.5)] {
        let r = net.ok(
            &thermo_account,
            report(&thermo, "temperature", counter, value),
        );
        assert_eq!(r.events[0].name, "device.reading");
    }
    net.refused(
        &thermo_account,
        report(&thermo, "temperature", 5, 22.0),
        "replay",
        "not above its last accepted counter 5",
    );
    net.refused(
        &thermo_account,
        report(&thermo, "humidity", 4, 40.0),
        "replay",
        "replayed or reordered",
    );
    // A reading signed by another key, or sent by someone who does not speak for the device.
    let mut bad = report(&thermo, "temperature", 6, 22.0);
    if let IotTx::Report { signature, .. } = &mut bad {
        signature[10] ^= 1;
    }
    net.refused(
        &thermo_account,
        bad,
        "invalid_signature",
        "not signed by the key of device",
    );
    net.refused(
        &stranger,
        report(&thermo, "temperature", 6, 22.0),
        "unauthorized",
        "does not speak for device",
    );
    net.refused(
        &thermo_account,
        report(&thermo, "no spaces", 6, 22.0),
        "invalid",
        "stream `no spaces`",
    );

    let view = net.a.chain.view().unwrap();
    let readings = view
        .readings(&id, "temperature", None, None, false, 10)
        .unwrap();
    assert_eq!(
        readings.iter().map(|r| r.counter).collect::<Vec<_>>(),
        [1, 2, 5]
    );
    assert_eq!(readings[2].data, br#"{"celsius":21.5}"#);
    assert_eq!(readings[2].submitted_by, id);
    assert_eq!(
        view.latest_reading(&id, "temperature")
            .unwrap()
            .unwrap()
            .counter,
        5
    );
    assert_eq!(
        view.readings(&id, "temperature", Some(2), Some(4), false, 10)
            .unwrap()
            .len(),
        1
    );
    assert!(view.latest_reading(&id, "humidity").unwrap().is_none());

    // Bounded retention (3 per stream in this genesis): the oldest go.
    for counter in 6..=8 {
        net.ok(
            &thermo_account,
            report(&thermo, "temperature", counter, 23.0),
        );
    }
    let view = net.a.chain.view().unwrap();
    let kept: Vec<u64> = view
        .readings(&id, "temperature", None, None, true, 10)
        .unwrap()
        .iter()
        .map(|r| r.counter)
        .collect();
    assert_eq!(kept, [8, 7, 6]);

    // Suspended: readings refused until reactivated. Revoked: for good.
    let suspend = IotTx::UpdateDevice {
        device: id,
        status: Some(DeviceStatus::Suspended),
        metadata: None,
    };
    net.refused(&stranger, suspend.clone(), "unauthorized", "only its owner");
    net.ok(&owner, suspend);
    net.refused(
        &thermo_account,
        report(&thermo, "temperature", 9, 1.0),
        "device_inactive",
        "suspended",
    );
    net.ok(
        &owner,
        IotTx::UpdateDevice {
            device: id,
            status: Some(DeviceStatus::Active),
            metadata: Some("{}".into()),
        },
    );
    net.ok(&thermo_account, report(&thermo, "temperature", 9, 1.0));
    net.ok(
        &owner,
        IotTx::UpdateDevice {
            device: id,
            status: Some(DeviceStatus::Revoked),
            metadata: None,
        },
    );
    net.refused(
        &thermo_account,
        report(&thermo, "temperature", 10, 1.0),
        "device_revoked",
        "revoked",
    );
    net.refused(
        &owner,
        IotTx::UpdateDevice {
            device: id,
            status: Some(DeviceStatus::Active),
            metadata: None,
        },
        "device_revoked",
        "cannot be changed",
    );
}

#[test]
fn a_gateway_speaks_for_its_constrained_devices_and_no_other() {
    let mut net = Net::open();
    let owner = Keypair::dev("dev0");
    let gateway = Keypair::dev("dev1");
    let other_gateway = Keypair::dev("dev2");
    // A P-256 sensor cannot sign transactions: its gateway registers it and sends its readings.
    let sensor = DeviceSigner::dev(KeyType::P256, "sensor");
    let id = sensor.public().device_id();
    net.refused(
        &other_gateway,
        register(
            &other_gateway.address(),
            &sensor,
            Some(gateway.address()),
            Some(owner.address()),
        ),
        "unauthorized",
        "only the owner, or the gateway named for the device",
    );
    // Named as its gateway, it still needs the owner's consent to add a device to its name.
    let for_owner = register(
        &gateway.address(),
        &sensor,
        Some(gateway.address()),
        Some(owner.address()),
    );
    net.refused(
        &gateway,
        for_owner.clone(),
        "unauthorized",
        "holds no grant to register devices owned by",
    );
    net.ok(
        &owner,
        IotTx::Grant {
            right: Right::RegisterDevices {
                owner: owner.address(),
            },
            grantee: gateway.address(),
            expires_ms: None,
        },
    );
    net.ok(&gateway, for_owner);
    let d = net.device(&id);
    assert_eq!(
        (d.owner, d.gateway),
        (owner.address(), Some(gateway.address()))
    );

    net.ok(&gateway, report(&sensor, "temperature", 1, 4.0));
    net.refused(
        &other_gateway,
        report(&sensor, "temperature", 2, 4.0),
        "unauthorized",
        "does not speak for device",
    );
    // Only the owner moves the device; then the new gateway speaks for it and the old does not.
    let move_it = IotTx::SetGateway {
        device: id,
        gateway: Some(other_gateway.address()),
    };
    net.refused(
        &gateway,
        move_it.clone(),
        "unauthorized",
        "does not own device",
    );
    net.ok(&owner, move_it);
    net.refused(
        &gateway,
        report(&sensor, "temperature", 2, 4.0),
        "unauthorized",
        "does not speak for device",
    );
    net.ok(&other_gateway, report(&sensor, "temperature", 2, 4.5));

    let view = net.a.chain.view().unwrap();
    let by = |f: DeviceFilter<'_>| {
        view.devices(f, None, 10, 1_000)
            .unwrap()
            .items
            .iter()
            .map(|d| d.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by(DeviceFilter {
            gateway: Some(&other_gateway.address()),
            ..Default::default()
        }),
        [id]
    );
    assert!(
        by(DeviceFilter {
            gateway: Some(&gateway.address()),
            ..Default::default()
        })
        .is_empty()
    );
    assert_eq!(
        by(DeviceFilter {
            owner: Some(&owner.address()),
            kind: Some("thermometer"),
            ..Default::default()
        }),
        [id]
    );
    assert!(
        by(DeviceFilter {
            kind: Some("washing-machine"),
            ..Default::default()
        })
        .is_empty()
    );

    // Key rotation needs the new key's proof; the old key's readings are refused after it.
    let new_key = DeviceSigner::dev(KeyType::P256, "sensor-v2");
    let rotate = |proof_by: &DeviceSigner| IotTx::RotateKey {
        device: id,
        key: new_key.public(),
        proof: proof_by.sign(&rotation_digest(CHAIN, &id, &new_key.public(), 1)),
    };
    net.refused(
        &other_gateway,
        rotate(&sensor),
        "invalid_proof",
        "not the new key's signature",
    );
    net.ok(&other_gateway, rotate(&new_key));
    assert_eq!(net.device(&id).key_version, 1);
    net.refused(
        &other_gateway,
        report(&sensor, "temperature", 3, 5.0),
        "invalid_signature",
        "not signed by the key",
    );
    let data = br#"{"celsius":5}"#.to_vec();
    net.ok(
        &other_gateway,
        IotTx::Report {
            device: id,
            stream: "temperature".into(),
            counter: 3,
            signature: new_key.sign(&reading_digest(CHAIN, &id, "temperature", 3, &data)),
            data,
        },
    );

    // Transfer: the new owner manages it, the old one no longer does.
    let new_owner = Keypair::dev("dev1");
    net.ok(
        &owner,
        IotTx::TransferDevice {
            device: id,
            to: new_owner.address(),
        },
    );
    net.refused(
        &owner,
        IotTx::TransferDevice {
            device: id,
            to: owner.address(),
        },
        "unauthorized",
        "does not own device",
    );
    assert_eq!(net.device(&id).owner, new_owner.address());
}

#[test]
fn a_granted_service_admits_its_grantees_until_expiry_and_records_every_call() {
    let mut net = Net::open();
    let owner = Keypair::dev("dev0");
    let user = Keypair::dev("dev1");
    let counter = deploy_counter(&[&net.a, &net.b], &owner, 0, 0);
    net.nonces.insert(owner.address(), 2);
    let service = |policy| IotTx::RegisterService {
        contract: counter,
        name: "counter".into(),
        description: "counts".into(),
        policy,
    };
    net.refused(
        &user,
        service(AccessPolicy::Granted),
        "unauthorized",
        "only its creator",
    );
    net.ok(&owner, service(AccessPolicy::Granted));
    assert_eq!(
        net.a.chain.view().unwrap().services(None, 10).unwrap()[0].name,
        "counter"
    );

    let increment = |net: &mut Net, who: &Keypair| {
        let tx = net.tx(
            who,
            call(counter, "increment", borsh::to_vec(&1u64).unwrap()),
        );
        net.block(vec![tx]).remove(0)
    };
    let r = increment(&mut net, &user);
    assert_eq!(r.error.as_ref().unwrap().kind.name(), "unauthorized");
    assert!(
        r.error
            .unwrap()
            .message
            .contains("holds no grant to call `increment`")
    );
    // The owner may always call; its calls are recorded too.
    assert!(increment(&mut net, &owner).is_ok());

    let right = Right::CallService {
        service: counter,
        method: Some("increment".into()),
    };
    let expires = net.time + 3_500;
    let grant = IotTx::Grant {
        right: right.clone(),
        grantee: user.address(),
        expires_ms: Some(expires),
    };
    net.refused(&user, grant.clone(), "unauthorized", "only its owner");
    net.ok(&owner, grant);
    let r = increment(&mut net, &user);
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(r.events[0].name, "access.recorded");
    assert_eq!(crate::chain::get(&net.a, counter), 2);

    // The off-chain check (10.5): a proof of the grant against a header's state root.
    let head = net.a.chain.head().unwrap();
    let proof = net
        .a
        .chain
        .prove(&layout::grant(&right, &user.address()), head.height)
        .unwrap();
    let proven = verify_grant_proof(
        &proof,
        &head.state_root,
        &right,
        &user.address(),
        head.time_ms,
    )
    .unwrap();
    assert_eq!(proven.granter, owner.address());
    assert!(
        verify_grant_proof(&proof, &head.state_root, &right, &user.address(), expires)
            .unwrap_err()
            .contains("expired")
    );
    assert!(verify_grant_proof(&proof, &[7; 32], &right, &user.address(), head.time_ms).is_err());
    let absent = net
        .a
        .chain
        .prove(&layout::grant(&right, &owner.address()), head.height)
        .unwrap();
    assert!(
        verify_grant_proof(
            &absent,
            &head.state_root,
            &right,
            &owner.address(),
            head.time_ms
        )
        .unwrap_err()
        .contains("holds no grant")
    );

    // Expiry is block time: a later block refuses the call.
    net.time = expires;
    let r = increment(&mut net, &user);
    assert!(r.error.unwrap().message.contains("expired at block time"));
    // Granted again without expiry, then revoked.
    net.ok(
        &owner,
        IotTx::Grant {
            right: right.clone(),
            grantee: user.address(),
            expires_ms: None,
        },
    );
    assert!(increment(&mut net, &user).is_ok());
    net.ok(
        &owner,
        IotTx::Revoke {
            right: right.clone(),
            grantee: user.address(),
        },
    );
    assert_eq!(
        increment(&mut net, &user).error.unwrap().kind.name(),
        "unauthorized"
    );
    net.refused(
        &owner,
        IotTx::Revoke {
            right,
            grantee: user.address(),
        },
        "not_found",
        "holds no grant",
    );

    // The trail: who called, under which grant, in order; nothing else wrote it.
    let trail = net.a.chain.view().unwrap().audit(&counter, 0, 100).unwrap();
    let who: Vec<(u64, Address, Option<Address>)> = trail
        .iter()
        .map(|r| (r.seq, r.accessor, r.granted_by))
        .collect();
    assert_eq!(
        who,
        [
            (0, owner.address(), None),
            (1, user.address(), Some(owner.address())),
            (2, user.address(), Some(owner.address())),
        ]
    );
    assert_eq!(trail[1].action, "call increment");
    assert_eq!(crate::chain::get(&net.a, counter), 3);

    // Open policy: anyone calls, nothing recorded.
    net.ok(&owner, service(AccessPolicy::Open));
    assert!(increment(&mut net, &user).is_ok());
    assert_eq!(
        net.a
            .chain
            .view()
            .unwrap()
            .audit(&counter, 0, 100)
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn a_contract_calling_a_granted_service_is_held_to_its_policy_and_audited() {
    let mut net = Net::open();
    let owner = Keypair::dev("dev0");
    let user = Keypair::dev("dev1");
    let counter = deploy_counter(&[&net.a, &net.b], &owner, 0, 0);
    net.nonces.insert(owner.address(), 2);
    net.ok(
        &owner,
        IotTx::RegisterService {
            contract: counter,
            name: "counter".into(),
            description: "counts".into(),
            policy: AccessPolicy::Granted,
        },
    );
    // The user cannot call it, and calling it through a contract changes nothing: the
    // contract is the caller, and it holds no grant either.
    let relay = deploy(&mut net, &user, "monitor");
    let through_relay = |net: &mut Net| {
        let args = borsh::to_vec(&(counter, 1u64)).unwrap();
        let tx = net.tx(&user, call(relay, "relay_increment", args));
        net.block(vec![tx]).remove(0)
    };
    let r = through_relay(&mut net);
    let error = r.error.expect("refused");
    assert_eq!((error.kind.name(), error.code), ("contract_error", Some(3)));
    assert!(
        error
            .message
            .contains("may not call `increment` on service `counter`"),
        "{}",
        error.message
    );
    assert_eq!(crate::chain::get(&net.a, counter), 0);
    // Granted to the contract, the call goes through and the trail names the contract.
    net.ok(
        &owner,
        IotTx::Grant {
            right: Right::CallService {
                service: counter,
                method: None,
            },
            grantee: relay,
            expires_ms: None,
        },
    );
    let r = through_relay(&mut net);
    assert!(r.is_ok(), "{:?}", r.error);
    assert!(r.events.iter().any(|e| e.name == "access.recorded"));
    assert_eq!(crate::chain::get(&net.a, counter), 1);
    let trail = net.a.chain.view().unwrap().audit(&counter, 0, 100).unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(
        (trail[0].accessor, trail[0].granted_by),
        (relay, Some(owner.address()))
    );
    assert_eq!(trail[0].action, "call increment");
}

#[test]
fn grants_over_devices_belong_to_the_device_owner() {
    let mut net = Net::open();
    let owner = Keypair::dev("dev0");
    let other = Keypair::dev("dev2");
    let thermo = DeviceSigner::dev(KeyType::Secp256k1, "thermo");
    let id = thermo.public().device_id();
    net.ok(&owner, register(&owner.address(), &thermo, None, None));
    let read = Right::ReadData {
        device: id,
        stream: Some("temperature".into()),
    };
    net.refused(
        &other,
        IotTx::Grant {
            right: read.clone(),
            grantee: other.address(),
            expires_ms: None,
        },
        "unauthorized",
        "only its owner",
    );
    let past = IotTx::Grant {
        right: read.clone(),
        grantee: other.address(),
        expires_ms: Some(T0),
    };
    net.refused(&owner, past, "invalid", "not after this block's time");
    net.ok(
        &owner,
        IotTx::Grant {
            right: Right::ReadData {
                device: id,
                stream: None,
            },
            grantee: other.address(),
            expires_ms: None,
        },
    );
    // A grant over every stream covers one stream.
    let view = net.a.chain.view().unwrap();
    let head = net.a.chain.head().unwrap();
    assert!(
        bot_chain::iot::check_grant(&view, &read, &other.address(), head.time_ms)
            .unwrap()
            .is_ok()
    );
    assert!(
        bot_chain::iot::check_grant(
            &view,
            &Right::Command { device: id },
            &other.address(),
            head.time_ms
        )
        .unwrap()
        .is_err()
    );
    assert_eq!(view.grants(&id, None, 10).unwrap().len(), 1);
    let unknown = Address([9; 20]);
    net.refused(
        &owner,
        IotTx::Grant {
            right: Right::Command { device: unknown },
            grantee: other.address(),
            expires_ms: None,
        },
        "not_found",
        "no device",
    );
}

#[test]
fn a_transfer_ends_the_grants_the_old_owner_gave() {
    let mut net = Net::open();
    let (owner, reader, buyer) = (
        Keypair::dev("dev0"),
        Keypair::dev("dev1"),
        Keypair::dev("dev2"),
    );
    let thermo = DeviceSigner::dev(KeyType::Secp256k1, "thermo");
    let id = thermo.public().device_id();
    net.ok(&owner, register(&owner.address(), &thermo, None, None));
    let read = Right::ReadData {
        device: id,
        stream: None,
    };
    for right in [read.clone(), Right::Command { device: id }] {
        net.ok(
            &owner,
            IotTx::Grant {
                right,
                grantee: reader.address(),
                expires_ms: None,
            },
        );
    }
    let live = |net: &Net, right: &Right| {
        let view = net.a.chain.view().unwrap();
        let time = net.a.chain.head().unwrap().time_ms;
        bot_chain::iot::check_grant(&view, right, &reader.address(), time).unwrap()
    };
    assert!(live(&net, &read).is_ok());
    let r = net.ok(
        &owner,
        IotTx::TransferDevice {
            device: id,
            to: buyer.address(),
        },
    );
    let revoked = r
        .events
        .iter()
        .filter(|e| e.name == "grant.revoked")
        .count();
    assert_eq!(revoked, 2, "{:?}", r.events);
    // Neither grant holds for the new owner's device, and the registry lists none.
    assert!(live(&net, &read).is_err());
    assert!(live(&net, &Right::Command { device: id }).is_err());
    let view = net.a.chain.view().unwrap();
    assert!(view.grants(&id, None, 10).unwrap().is_empty());
    // The new owner grants afresh; the old one no longer may.
    net.refused(
        &owner,
        IotTx::Grant {
            right: read.clone(),
            grantee: reader.address(),
            expires_ms: None,
        },
        "unauthorized",
        "only its owner",
    );
    net.ok(
        &buyer,
        IotTx::Grant {
            right: read.clone(),
            grantee: reader.address(),
            expires_ms: None,
        },
    );
    assert!(live(&net, &read).is_ok());
}

#[test]
fn a_member_removed_from_the_consortium_silences_its_devices() {
    let mut net = Net::new(genesis(Mode::Consortium));
    let admin = Keypair::dev("dev0");
    let owner = Keypair::dev("dev1");
    let thermo = DeviceSigner::dev(KeyType::Secp256k1, "thermo");
    let account = Keypair::from_secret(&thermo.secret()).unwrap();
    net.ok(&owner, register(&owner.address(), &thermo, None, None));
    net.ok(&account, report(&thermo, "temperature", 1, 1.0));
    let permit = net.tx(
        &admin,
        TxKind::Permit {
            account: owner.address(),
            deploy: false,
            transact: false,
        },
    );
    assert!(net.block(vec![permit]).remove(0).is_ok());
    // The device's own account speaks no more: neither readings nor calls are admitted.
    let reading = net.tx(
        &account,
        TxKind::Iot(report(&thermo, "temperature", 2, 2.0)),
    );
    assert!(matches!(
        net.a.chain.check_tx(&reading),
        Err(bot_chain::ChainError::NotPermitted(_))
    ));
    let call = net.tx(&account, call(Address([1; 20]), "describe", Vec::new()));
    assert!(matches!(
        net.a.chain.check_tx(&call),
        Err(bot_chain::ChainError::NotPermitted(_))
    ));
}

#[test]
fn on_a_consortium_chain_a_registered_device_sends_its_readings_and_calls_and_nothing_else() {
    let mut net = Net::new(genesis(Mode::Consortium));
    let owner = Keypair::dev("dev0");
    let thermo = DeviceSigner::dev(KeyType::Secp256k1, "thermo");
    let account = Keypair::from_secret(&thermo.secret()).unwrap();
    let early = net.tx(
        &account,
        TxKind::Iot(report(&thermo, "temperature", 1, 1.0)),
    );
    assert!(matches!(
        net.a.chain.check_tx(&early),
        Err(bot_chain::ChainError::NotPermitted(_))
    ));
    net.nonces.insert(account.address(), 0);
    net.ok(&owner, register(&owner.address(), &thermo, None, None));
    net.ok(&account, report(&thermo, "temperature", 1, 1.0));
    let transfer = net.tx(
        &account,
        TxKind::Transfer {
            to: owner.address(),
            amount: 0,
        },
    );
    assert!(matches!(
        net.a.chain.check_tx(&transfer),
        Err(bot_chain::ChainError::NotPermitted(_))
    ));
    assert!(
        net.block(vec![transfer]).is_empty(),
        "left out of the block"
    );
    // It may call contracts while it is active (devices deal with services, Appendix II.4).
    net.nonces.insert(account.address(), 1);
    let monitor = deploy(&mut net, &owner, "monitor");
    let id = thermo.public().device_id();
    let describe = |net: &mut Net| {
        net.tx(
            &account,
            call(monitor, "describe", borsh::to_vec(&id).unwrap()),
        )
    };
    let tx = describe(&mut net);
    net.a.chain.check_tx(&tx).expect("admitted");
    assert!(net.block(vec![tx]).remove(0).is_ok());
    net.ok(
        &owner,
        IotTx::UpdateDevice {
            device: id,
            status: Some(DeviceStatus::Suspended),
            metadata: None,
        },
    );
    let tx = describe(&mut net);
    assert!(matches!(
        net.a.chain.check_tx(&tx),
        Err(bot_chain::ChainError::NotPermitted(_))
    ));
}

/// Uploads and instantiates `name` (built from tests/contracts) with `new()`; its address.
fn deploy(net: &mut Net, key: &Keypair, name: &str) -> Address {
    deploy_with(net, key, name, Some("new"))
}

/// The probe, which has no init.
fn deploy_probe(net: &mut Net, key: &Keypair) -> Address {
    deploy_with(net, key, "probe", None)
}

fn deploy_with(net: &mut Net, key: &Keypair, name: &str, init: Option<&str>) -> Address {
    let code = bot_tests::wasm(name);
    let hash = bot_engine::CodeHash::of(&code).0;
    // Uploading pays by the byte: what the code's size asks for, and some.
    let gas = (code.len() as u64 + 4096) * bot_chain::Params::default().upload_byte_gas;
    let upload = net.tx_with_gas(key, TxKind::Upload { wasm: code }, gas);
    let instantiate = net.tx(
        key,
        TxKind::Instantiate {
            code: hash,
            salt: name.as_bytes().to_vec(),
            init: init.map(str::to_string),
            args: Vec::new(),
        },
    );
    let receipts = net.block(vec![upload, instantiate]);
    assert!(receipts.iter().all(Receipt::is_ok), "{receipts:?}");
    receipts[1].contract.expect("instantiated")
}

#[test]
fn a_service_contract_reads_device_data_under_its_grant_and_every_read_is_audited() {
    let mut net = Net::open();
    let owner = Keypair::dev("dev0");
    let operator = Keypair::dev("dev1");
    let thermo = DeviceSigner::dev(KeyType::Secp256k1, "thermo");
    let id = thermo.public().device_id();
    let thermo_account = Keypair::from_secret(&thermo.secret()).unwrap();
    net.ok(&owner, register(&owner.address(), &thermo, None, None));
    for counter in 1..=3 {
        let celsius = 20.0 + counter as f64;
        net.ok(
            &thermo_account,
            report(&thermo, "temperature", counter, celsius),
        );
    }
    let monitor = deploy(&mut net, &operator, "monitor");
    let args = |stream: &str| borsh::to_vec(&(id, stream.to_string())).unwrap();
    let invoke = |net: &mut Net, who: &Keypair, method: &str, args: Vec<u8>| {
        let tx = net.tx(who, call(monitor, method, args));
        net.block(vec![tx]).remove(0)
    };
    let audit = |net: &Net| net.a.chain.view().unwrap().audit(&id, 0, 100).unwrap();

    // The registry is public: any contract looks a device up (a view, no grant, no record).
    let described: Option<([u8; 20], String, u8, u64)> =
        net.query(monitor, "describe", borsh::to_vec(&id).unwrap());
    assert_eq!(
        described,
        Some((owner.address().0, "thermometer".to_string(), 0, 3))
    );

    // Its readings are not: without the owner's grant the read is the contract's error and
    // nothing is recorded.
    let r = invoke(&mut net, &operator, "track", args("temperature"));
    let error = r.error.expect("refused");
    assert_eq!(error.code, Some(3), "{}", error.message);
    assert!(
        error.message.contains("has not granted it read-data"),
        "{}",
        error.message
    );
    assert!(audit(&net).is_empty());

    // The owner grants the service one stream: it reads, and the device's trail says so.
    net.ok(
        &owner,
        IotTx::Grant {
            right: Right::ReadData {
                device: id,
                stream: Some("temperature".into()),
            },
            grantee: monitor,
            expires_ms: None,
        },
    );
    let r = invoke(&mut net, &operator, "track", args("temperature"));
    assert!(r.is_ok(), "{:?}", r.error);
    let data: Vec<u8> = borsh::from_slice(&r.result).unwrap();
    assert_eq!(data, br#"{"celsius":23}"#);
    assert!(r.events.iter().any(|e| e.name == "access.recorded"));
    let trail = audit(&net);
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].accessor, monitor);
    assert_eq!(trail[0].granted_by, Some(owner.address()));
    assert_eq!(trail[0].action, "read 1 readings of temperature");
    assert_eq!(trail[0].tx_hash, r.tx_hash.to_vec());

    let r = invoke(
        &mut net,
        &operator,
        "history",
        borsh::to_vec(&(id, "temperature".to_string(), 1u64, 10u32)).unwrap(),
    );
    assert_eq!(borsh::from_slice::<Vec<u64>>(&r.result).unwrap(), [2, 3]);
    assert_eq!(audit(&net)[1].action, "read 2 readings of temperature");

    // A call that reads and then fails keeps no record; nor does another stream's refusal.
    let r = invoke(&mut net, &operator, "read_then_fail", args("temperature"));
    assert_eq!(r.error.unwrap().code, Some(100));
    let r = invoke(&mut net, &operator, "track", args("humidity"));
    assert_eq!(r.error.unwrap().code, Some(3));
    assert_eq!(audit(&net).len(), 2);

    // Revoked, the grant no longer lets it read.
    net.ok(
        &owner,
        IotTx::Revoke {
            right: Right::ReadData {
                device: id,
                stream: Some("temperature".into()),
            },
            grantee: monitor,
        },
    );
    let r = invoke(&mut net, &operator, "track", args("temperature"));
    assert_eq!(r.error.unwrap().code, Some(3));

    // A contract admits callers by their grants: `operate` needs `command` over the device.
    let r = invoke(&mut net, &operator, "operate", borsh::to_vec(&id).unwrap());
    let error = r.error.unwrap();
    assert_eq!(error.code, Some(3));
    assert!(
        error
            .message
            .contains("holds no live grant to command device"),
        "{}",
        error.message
    );
    net.ok(
        &owner,
        IotTx::Grant {
            right: Right::Command { device: id },
            grantee: operator.address(),
            expires_ms: None,
        },
    );
    let r = invoke(&mut net, &operator, "operate", borsh::to_vec(&id).unwrap());
    assert_eq!(
        borsh::from_slice::<[u8; 20]>(&r.result).unwrap(),
        owner.address().0
    );

    // And looks services up.
    let service = |net: &Net| -> Option<(String, bool)> {
        net.query(monitor, "service", borsh::to_vec(&monitor).unwrap())
    };
    assert_eq!(service(&net), None);
    net.ok(
        &operator,
        IotTx::RegisterService {
            contract: monitor,
            name: "cold-chain monitor".into(),
            description: "watches fridges".into(),
            policy: AccessPolicy::Granted,
        },
    );
    assert_eq!(service(&net), Some(("cold-chain monitor".into(), true)));
}

/// `device`'s signed answer to command `id`.
fn answer(device: &DeviceSigner, id: u64, ok: bool, data: &[u8]) -> IotTx {
    let device_id = device.public().device_id();
    IotTx::Respond {
        device: device_id,
        command: id,
        ok,
        data: data.to_vec(),
        signature: device.sign(&response_digest(CHAIN, &device_id, id, ok, data)),
    }
}

#[test]
fn a_service_commands_a_device_and_its_callback_gets_the_signed_answer_or_the_timeout() {
    let mut net = Net::open();
    let owner = Keypair::dev("dev0");
    let operator = Keypair::dev("dev1");
    let neighbour = Keypair::dev("dev2");
    let thermo = DeviceSigner::dev(KeyType::Secp256k1, "thermo");
    let thermo_account = Keypair::from_secret(&thermo.secret()).unwrap();
    let id = thermo.public().device_id();
    net.ok(&owner, register(&owner.address(), &thermo, None, None));
    // The neighbour's device, behind the neighbour's gateway account.
    let alien = DeviceSigner::dev(KeyType::P256, "alien");
    net.ok(
        &neighbour,
        register(
            &neighbour.address(),
            &alien,
            Some(neighbour.address()),
            None,
        ),
    );
    let monitor = deploy(&mut net, &operator, "monitor");
    let send = |net: &mut Net, device: Address, name: &str, timeout: u32| {
        let args = (
            device,
            name.to_string(),
            br#"{"offset":0.5}"#.to_vec(),
            timeout,
        );
        let tx = net.tx(
            &operator,
            call(monitor, "command", borsh::to_vec(&args).unwrap()),
        );
        net.block(vec![tx])
    };
    let reply_of = |net: &Net, command: u64| -> Option<(u8, Vec<u8>, u64)> {
        net.query(monitor, "reply_of", borsh::to_vec(&command).unwrap())
    };
    let command = |net: &Net, device: &Address, n: u64| {
        net.a.chain.view().unwrap().command(device, n).unwrap()
    };

    // Without its owner's `command` grant the contract cannot send: its error, nothing stored.
    let r = send(&mut net, id, "calibrate", 5).remove(0);
    let error = r.error.expect("refused");
    assert_eq!(error.code, Some(3));
    assert!(
        error.message.contains("has not granted it `command`"),
        "{}",
        error.message
    );
    assert!(command(&net, &id, 0).is_none());
    // A grant over one device does not reach a device of another owner.
    net.ok(
        &owner,
        IotTx::Grant {
            right: Right::Command { device: id },
            grantee: monitor,
            expires_ms: None,
        },
    );
    let alien_id = alien.public().device_id();
    let r = send(&mut net, alien_id, "open-door", 5).remove(0);
    assert_eq!(r.error.expect("refused").code, Some(3));
    assert!(command(&net, &alien_id, 0).is_none());

    // Granted: the command is stored, announced, and recorded in the device's audit trail.
    let r = send(&mut net, id, "calibrate", 20).remove(0);
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(borsh::from_slice::<u64>(&r.result).unwrap(), 0);
    let sent_at = net.a.chain.height().unwrap();
    let c = command(&net, &id, 0).expect("stored");
    assert_eq!(
        (c.service, c.deadline, &c.state),
        (monitor, sent_at + 19, &CommandState::Pending)
    );
    assert_eq!(c.payload, br#"{"offset":0.5}"#);
    assert!(r.events.iter().any(|e| e.name == "command.sent"));
    let trail = net.a.chain.view().unwrap().audit(&id, 0, 10).unwrap();
    assert_eq!(trail.last().unwrap().action, "command calibrate #0");
    assert_eq!(trail.last().unwrap().granted_by, Some(owner.address()));

    // Only the device (or its gateway) answers, with its key, for a command it was sent, once.
    net.refused(
        &operator,
        answer(&thermo, 0, true, b"done"),
        "unauthorized",
        "does not speak for device",
    );
    let mut forged = answer(&thermo, 0, true, b"done");
    if let IotTx::Respond { data, .. } = &mut forged {
        *data = b"forged".to_vec();
    }
    net.refused(
        &thermo_account,
        forged,
        "invalid_signature",
        "not signed by the key of device",
    );
    net.refused(
        &thermo_account,
        answer(&thermo, 7, true, b"done"),
        "not_found",
        "no command #7",
    );
    // The answer's transaction carries the callback: its gas limit covers the callback's too.
    let before = net.state_without_nonces();
    let short = net.tx_with_gas(
        &thermo_account,
        TxKind::Iot(answer(&thermo, 0, true, b"done")),
        20_000_000,
    );
    let r = net.block(vec![short]).remove(0);
    let error = r.error.expect("refused");
    assert_eq!(error.kind.name(), "out_of_gas");
    assert!(
        error
            .message
            .contains("runs its callback with 30000000 gas"),
        "{}",
        error.message
    );
    assert_eq!(net.state_without_nonces(), before);
    let r = net.ok(&thermo_account, answer(&thermo, 0, true, b"done"));
    let names: Vec<&str> = r.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["command.answered", "replied", "command.callback"]);
    let run: CallbackRun = borsh::from_slice(&r.events[2].data).unwrap();
    assert_eq!(
        (run.method.as_str(), run.error.as_deref()),
        ("on_reply", None)
    );
    assert!(run.gas_used > 0 && run.gas_used < 30_000_000);
    let answered_at = net.a.chain.height().unwrap();
    assert_eq!(reply_of(&net, 0), Some((0, b"done".to_vec(), answered_at)));
    assert!(matches!(
        command(&net, &id, 0).unwrap().state,
        CommandState::Answered { ok: true, .. }
    ));
    net.refused(
        &thermo_account,
        answer(&thermo, 0, true, b"again"),
        "already_answered",
        "was answered at block",
    );

    // A callback that fails keeps nothing it did; the answer stays on the chain.
    send(&mut net, id, "calibrate", 5);
    let r = net.ok(&thermo_account, answer(&thermo, 1, false, b"boom"));
    let run: CallbackRun = borsh::from_slice(&r.events.last().unwrap().data).unwrap();
    assert!(run.error.unwrap().contains("the answer blew up"));
    assert_eq!(reply_of(&net, 1), None);
    assert!(matches!(
        command(&net, &id, 1).unwrap().state,
        CommandState::Answered { ok: false, .. }
    ));

    // Unanswered, a command times out at the end of its last block, on every node alike: a
    // receipt of the chain's own, and the callback sees the timeout.
    let r = send(&mut net, id, "reboot", 2);
    assert_eq!(r.len(), 1);
    let sent_at = net.a.chain.height().unwrap();
    let receipts = net.block(vec![]);
    assert_eq!(receipts.len(), 1, "the timeout's receipt");
    let timeout = &receipts[0];
    assert_eq!(timeout.tx_hash, bot_chain::timeout_hash(2));
    assert!(timeout.is_ok());
    let names: Vec<&str> = timeout.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["command.timed_out", "replied", "command.callback"]);
    assert_eq!(reply_of(&net, 2), Some((2, Vec::new(), sent_at + 1)));
    let (height, _, stored) = net.a.chain.receipt(&timeout.tx_hash).unwrap().unwrap();
    assert_eq!((height, &stored), (sent_at + 1, timeout));
    net.refused(
        &thermo_account,
        answer(&thermo, 2, true, b"late"),
        "timed_out",
        "had to be answered by block",
    );

    // No one but the chain calls the callback with a reply.
    let tx = net.tx(&operator, call(monitor, "on_reply", Vec::new()));
    let r = net.block(vec![tx]).remove(0);
    let error = r.error.expect("refused");
    assert_eq!(error.code, Some(3));
    assert!(
        error.message.contains("only the chain calls it"),
        "{}",
        error.message
    );

    // A suspended device takes no commands.
    net.ok(
        &owner,
        IotTx::UpdateDevice {
            device: id,
            status: Some(DeviceStatus::Suspended),
            metadata: None,
        },
    );
    let r = send(&mut net, id, "calibrate", 5).remove(0);
    assert!(r.error.expect("refused").message.contains("suspended"));
    assert!(command(&net, &id, 3).is_none());
}

#[test]
fn a_timeout_whose_callback_does_not_fit_the_block_lets_smaller_ones_go_first() {
    let mut g = genesis(Mode::Open);
    g.params.block_gas_limit = 5_000_000_000;
    g.params.max_tx_gas = 5_000_000_000;
    let mut net = Net::new(g);
    let owner = Keypair::dev("dev0");
    let thermo = DeviceSigner::dev(KeyType::Secp256k1, "thermo");
    let id = thermo.public().device_id();
    net.ok(&owner, register(&owner.address(), &thermo, None, None));
    let monitor = deploy(&mut net, &owner, "monitor");
    let probe = deploy_probe(&mut net, &owner);
    net.ok(
        &owner,
        IotTx::Grant {
            right: Right::Command { device: id },
            grantee: monitor,
            expires_ms: None,
        },
    );
    let send = |net: &mut Net, timeout: u32, callback_gas: u64| {
        let args = (
            id,
            "ping".to_string(),
            Vec::<u8>::new(),
            timeout,
            callback_gas,
        );
        let tx = net.tx_with_gas(
            &owner,
            call(monitor, "command_paying", borsh::to_vec(&args).unwrap()),
            callback_gas + 200_000_000,
        );
        let r = net.block(vec![tx]).remove(0);
        assert!(r.is_ok(), "{:?}", r.error);
    };
    // Both due at the same height: the big one first (its deadline comes first by id).
    send(&mut net, 3, 1_000_000_000);
    send(&mut net, 2, 30_000_000);
    // The block they are due in is nearly full: 500 million gas left after a transaction
    // that burns the rest, room for the small callback only.
    let burn = net.tx_with_gas(&owner, call(probe, "loop", Vec::new()), 4_500_000_000);
    let receipts = net.block(vec![burn]);
    assert_eq!(
        receipts.len(),
        2,
        "the burner and one timeout: {receipts:?}"
    );
    let view = net.a.chain.view().unwrap();
    let state = |n| view.command(&id, n).unwrap().unwrap().state;
    assert_eq!(state(0), CommandState::Pending, "the big callback waits");
    assert!(matches!(state(1), CommandState::TimedOut { .. }));
    // The next block has the gas: the big one times out then.
    let receipts = net.block(Vec::new());
    assert_eq!(receipts.len(), 1);
    let view = net.a.chain.view().unwrap();
    assert!(matches!(
        view.command(&id, 0).unwrap().unwrap().state,
        CommandState::TimedOut { .. }
    ));
}

#[test]
fn a_filtered_list_reads_a_bounded_number_of_entries_and_says_where_to_go_on() {
    let mut net = Net::open();
    let owner = Keypair::dev("dev0");
    let mut kinds = Vec::new();
    for i in 0..7 {
        let signer = DeviceSigner::dev(KeyType::Secp256k1, &format!("d{i}"));
        let mut op = register(&owner.address(), &signer, None, None);
        let kind = if i % 3 == 0 { "valve" } else { "thermometer" };
        if let IotTx::RegisterDevice { kind: k, .. } = &mut op {
            *k = kind.into();
        }
        net.ok(&owner, op);
        kinds.push((signer.public().device_id(), kind));
    }
    let mut valves: Vec<Address> = kinds
        .iter()
        .filter(|(_, k)| *k == "valve")
        .map(|(id, _)| *id)
        .collect();
    valves.sort();
    let view = net.a.chain.view().unwrap();
    let filter = DeviceFilter {
        kind: Some("valve"),
        ..Default::default()
    };
    // Two index entries per call: every call does bounded work, and the cursors reach all.
    let (mut found, mut after, mut calls) = (Vec::new(), None, 0);
    loop {
        let page = view.devices(filter, after.as_ref(), 10, 2).unwrap();
        assert!(page.scanned <= 2);
        calls += 1;
        found.extend(page.items.iter().map(|d| d.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(found, valves);
    assert!(calls >= 4, "{calls} calls for 7 entries read 2 at a time");
    // Without a budget to speak of, one call lists them all.
    let all = view.devices(filter, None, 10, 1_000).unwrap();
    assert_eq!(all.items.len(), 3);
    assert_eq!(all.next, None);
}
