//! UDP: a bound socket as a session. It reports every datagram with its source, can answer
//! each (echo, or a fixed reply), and sends to any address; it can join multicast groups and
//! send to broadcast addresses when asked.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use async_net::UdpSocket;
use futures_lite::FutureExt;
use smol::{Executor, Task};

use super::error::{LocalUse, Transport};
use super::{EventSink, NetError, SessionId};

/// The largest payload a UDP datagram carries over IPv4 (65,535 less the IP and UDP
/// headers); IPv6 allows 20 bytes more.
pub const MAX_DATAGRAM_V4: usize = 65_507;
pub const MAX_DATAGRAM_V6: usize = 65_527;

/// What a bound socket does with each datagram it receives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum UdpReply {
    #[default]
    Nothing,
    /// The datagram goes back to its source.
    Echo,
    /// These bytes go back to the source of every datagram.
    Text(Vec<u8>),
}

/// The interface multicast groups are joined on and multicast is sent from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interface {
    /// An IPv4 address of the interface (IPv4 groups).
    Address(Ipv4Addr),
    /// An interface index, from its name (`lo`, `eth0`) or number (IPv6 groups; IPv4 too).
    Index(u32),
}

#[derive(Clone, Debug, Default)]
pub struct UdpConfig {
    /// The local address; port 0 picks a free one.
    pub bind: Option<SocketAddr>,
    pub reply: UdpReply,
    /// Multicast groups to join.
    pub join: Vec<IpAddr>,
    pub interface: Option<Interface>,
    /// May send to broadcast addresses (SO_BROADCAST).
    pub broadcast: bool,
    /// Hops for unicast and multicast datagrams.
    pub ttl: Option<u32>,
    /// Talk to this peer only: the socket is connected, so the system reports an ICMP "port
    /// unreachable" from it as an error on the next read.
    pub peer: Option<SocketAddr>,
}

#[derive(Debug)]
pub enum UdpEvent {
    Bound {
        addr: SocketAddr,
    },
    Received {
        from: SocketAddr,
        bytes: Vec<u8>,
    },
    Sent {
        to: SocketAddr,
        bytes: Vec<u8>,
    },
    /// A send failed, or the peer's system answered that nothing listens there; the socket
    /// stays open.
    Failed(NetError),
    /// The socket is closed.
    Closed {
        datagrams_in: u64,
        datagrams_out: u64,
        bytes_in: u64,
        bytes_out: u64,
    },
}

/// For a consumer of one socket's events, which needs no stamp.
impl From<(SessionId, UdpEvent)> for UdpEvent {
    fn from((_, event): (SessionId, UdpEvent)) -> Self {
        event
    }
}

/// Datagrams waiting to go out; a stream (standard input, repeats) waits here for room.
const OUTGOING_QUEUE: usize = 64;

/// A bound UDP socket, receiving in the background until closed.
pub struct UdpSession<E> {
    outgoing: async_channel::Sender<(SocketAddr, Vec<u8>)>,
    task: Task<()>,
    events: EventSink<E>,
    counts: Arc<std::sync::Mutex<Counts>>,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    datagrams_in: u64,
    datagrams_out: u64,
    bytes_in: u64,
    bytes_out: u64,
}

impl<E: From<(SessionId, UdpEvent)> + Send + 'static> UdpSession<E> {
    /// Binds, sets the socket up as asked and starts receiving; `Bound` is sent before this
    /// returns.
    pub async fn open(
        config: UdpConfig,
        executor: &Executor<'static>,
        events: EventSink<E>,
    ) -> Result<Self, NetError> {
        let socket = bind(&config).await?;
        let local = socket.local_addr().map_err(|error| {
            NetError::from_local(
                config.bind.unwrap_or(local_any(&config)),
                LocalUse::Listen,
                Transport::Udp,
                error,
            )
        })?;
        events.emit(UdpEvent::Bound { addr: local }).await;
        let (outgoing, queue) = async_channel::bounded(OUTGOING_QUEUE);
        let counts = Arc::new(std::sync::Mutex::new(Counts::default()));
        let task = executor.spawn(run(socket, config, queue, events.clone(), counts.clone()));
        Ok(UdpSession {
            outgoing,
            task,
            events,
            counts,
        })
    }

    /// Queues a datagram; false if the queue is full or the socket has closed.
    pub fn send_to(&self, to: SocketAddr, bytes: Vec<u8>) -> bool {
        self.outgoing.try_send((to, bytes)).is_ok()
    }

    /// Queues a datagram, waiting for room.
    pub async fn send_to_waiting(&self, to: SocketAddr, bytes: Vec<u8>) {
        let _ = self.outgoing.send((to, bytes)).await;
    }

    /// Closes the socket once what is queued has gone, and reports `Closed`.
    pub async fn close(self) {
        self.outgoing.close();
        // The task ends by itself once the queue is empty and closed.
        let _ = self.task.await;
        let counts = *self.counts.lock().unwrap_or_else(|p| p.into_inner());
        self.events
            .emit(UdpEvent::Closed {
                datagrams_in: counts.datagrams_in,
                datagrams_out: counts.datagrams_out,
                bytes_in: counts.bytes_in,
                bytes_out: counts.bytes_out,
            })
            .await;
    }
}

fn local_any(config: &UdpConfig) -> SocketAddr {
    let ip = match config.peer.map(|p| p.ip()).or(config.join.first().copied()) {
        Some(IpAddr::V6(_)) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    };
    SocketAddr::new(ip, 0)
}

/// The socket, bound and set up: broadcast, TTL, groups joined, connected to its peer.
async fn bind(config: &UdpConfig) -> Result<UdpSocket, NetError> {
    let requested = config.bind.unwrap_or_else(|| local_any(config));
    let socket = UdpSocket::bind(requested).await.map_err(|error| {
        NetError::from_local(requested, LocalUse::Listen, Transport::Udp, error)
    })?;
    let failed = |action: String| move |source| NetError::Io { action, source };
    if config.broadcast {
        socket
            .set_broadcast(true)
            .map_err(failed("cannot allow broadcast".into()))?;
    }
    if let Some(ttl) = config.ttl {
        let set = if requested.is_ipv4() {
            socket
                .set_ttl(ttl)
                .and_then(|()| socket.set_multicast_ttl_v4(ttl))
        } else {
            use std::os::fd::AsRawFd;
            let hops = ttl as libc::c_int;
            let fd = socket.as_raw_fd();
            set_option(fd, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, &hops)
                .and_then(|()| set_option(fd, libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_HOPS, &hops))
        };
        set.map_err(failed(format!("cannot set the TTL to {ttl}")))?;
    }
    for group in &config.join {
        join(&socket, *group, config.interface)?;
    }
    if let Some(interface) = config.interface {
        send_multicast_from(&socket, requested.ip(), interface)?;
    }
    if let Some(peer) = config.peer {
        socket
            .connect(peer)
            .await
            .map_err(|error| send_error(peer, error))?;
    }
    Ok(socket)
}

fn join(socket: &UdpSocket, group: IpAddr, interface: Option<Interface>) -> Result<(), NetError> {
    if !group.is_multicast() {
        return Err(NetError::invalid(
            "join",
            format!("{group} is not a multicast group (224.0.0.0/4 or ff00::/8)"),
        ));
    }
    let joined = match (group, interface) {
        (IpAddr::V4(group), None) => socket.join_multicast_v4(group, Ipv4Addr::UNSPECIFIED),
        (IpAddr::V4(group), Some(Interface::Address(address))) => {
            socket.join_multicast_v4(group, address)
        }
        (IpAddr::V4(group), Some(Interface::Index(index))) => {
            join_v4_by_index(socket, group, index)
        }
        (IpAddr::V6(group), None) => socket.join_multicast_v6(&group, 0),
        (IpAddr::V6(group), Some(Interface::Index(index))) => {
            socket.join_multicast_v6(&group, index)
        }
        (IpAddr::V6(_), Some(Interface::Address(address))) => {
            return Err(NetError::invalid(
                "interface",
                format!("an IPv6 group is joined on an interface name or number, not on {address}"),
            ));
        }
    };
    joined.map_err(|error| match error.raw_os_error() {
        Some(libc::EINVAL | libc::EAFNOSUPPORT) => NetError::invalid(
            "join",
            format!("{group} cannot be joined on a socket bound to this address family ({error})"),
        ),
        Some(libc::ENODEV | libc::EADDRNOTAVAIL) => NetError::invalid(
            "interface",
            format!("cannot join {group} there: no such multicast interface ({error})"),
        ),
        _ => NetError::Io {
            action: format!("cannot join {group}"),
            source: error,
        },
    })
}

/// IP_ADD_MEMBERSHIP with an interface index (`ip_mreqn`), which std only takes as an address.
fn join_v4_by_index(socket: &UdpSocket, group: Ipv4Addr, index: u32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let request = libc::ip_mreqn {
        imr_multiaddr: libc::in_addr {
            s_addr: u32::from(group).to_be(),
        },
        imr_address: libc::in_addr { s_addr: 0 },
        imr_ifindex: index as libc::c_int,
    };
    set_option(
        socket.as_raw_fd(),
        libc::IPPROTO_IP,
        libc::IP_ADD_MEMBERSHIP,
        &request,
    )
}

/// IP_MULTICAST_IF / IPV6_MULTICAST_IF: multicast goes out (and loops back) on this interface.
fn send_multicast_from(
    socket: &UdpSocket,
    bound: IpAddr,
    interface: Interface,
) -> Result<(), NetError> {
    use std::os::fd::AsRawFd;
    let fd = socket.as_raw_fd();
    let set = match (bound, interface) {
        (IpAddr::V4(_), Interface::Address(address)) => {
            let address = libc::in_addr {
                s_addr: u32::from(address).to_be(),
            };
            set_option(fd, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &address)
        }
        (IpAddr::V4(_), Interface::Index(index)) => {
            // With the index alone, the system takes the source address from another
            // interface when this one's addresses are host-scoped (loopback): name it too.
            let source = interface_ipv4(index).unwrap_or(Ipv4Addr::UNSPECIFIED);
            let request = libc::ip_mreqn {
                imr_multiaddr: libc::in_addr { s_addr: 0 },
                imr_address: libc::in_addr {
                    s_addr: u32::from(source).to_be(),
                },
                imr_ifindex: index as libc::c_int,
            };
            set_option(fd, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &request)
        }
        (IpAddr::V6(_), Interface::Index(index)) => set_option(
            fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_MULTICAST_IF,
            &(index as libc::c_int),
        ),
        (IpAddr::V6(_), Interface::Address(address)) => {
            return Err(NetError::invalid(
                "interface",
                format!("IPv6 multicast goes out on an interface name or number, not on {address}"),
            ));
        }
    };
    set.map_err(|error| {
        NetError::invalid("interface", format!("cannot send multicast there: {error}"))
    })
}

/// The first IPv4 address of the interface with this index.
fn interface_ipv4(index: u32) -> Option<Ipv4Addr> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list`, freed below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return None;
    }
    let mut found = None;
    let mut entry = list;
    while found.is_none() && !entry.is_null() {
        // SAFETY: `entry` is a node of the list getifaddrs made, not yet freed; an address
        // whose family is AF_INET is a sockaddr_in.
        unsafe {
            let address = (*entry).ifa_addr;
            if !address.is_null()
                && libc::c_int::from((*address).sa_family) == libc::AF_INET
                && libc::if_nametoindex((*entry).ifa_name) == index
            {
                let ipv4 = &*(address as *const libc::sockaddr_in);
                found = Some(Ipv4Addr::from(u32::from_be(ipv4.sin_addr.s_addr)));
            }
            entry = (*entry).ifa_next;
        }
    }
    // SAFETY: the list getifaddrs made, freed once.
    unsafe { libc::freeifaddrs(list) };
    found
}

fn set_option<T>(
    fd: libc::c_int,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` is a live, correctly sized option value for this level and name.
    let result = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl std::str::FromStr for Interface {
    type Err = NetError;

    /// An IPv4 address, an interface name (`lo`, `eth0`) or an interface number.
    fn from_str(text: &str) -> Result<Self, NetError> {
        let text = text.trim();
        if let Ok(address) = text.parse::<Ipv4Addr>() {
            return Ok(Interface::Address(address));
        }
        if let Ok(index) = text.parse::<u32>() {
            return Ok(Interface::Index(index));
        }
        let name = std::ffi::CString::new(text).map_err(|_| unknown_interface(text))?;
        // SAFETY: a NUL-terminated name we own.
        match unsafe { libc::if_nametoindex(name.as_ptr()) } {
            0 => Err(unknown_interface(text)),
            index => Ok(Interface::Index(index)),
        }
    }
}

fn unknown_interface(text: &str) -> NetError {
    NetError::invalid(
        "interface",
        format!(
            "`{text}` is not an interface of this machine (give its name, like eth0, its number, or an IPv4 address of it)"
        ),
    )
}

/// Refuses, naming `field`, a payload larger than one datagram to `to` can carry.
pub fn check_size(field: &'static str, to: SocketAddr, size: usize) -> Result<(), NetError> {
    let limit = if to.is_ipv4() {
        MAX_DATAGRAM_V4
    } else {
        MAX_DATAGRAM_V6
    };
    if size > limit {
        return Err(NetError::invalid(
            field,
            format!("a datagram of {size} bytes is too large: UDP carries at most {limit}"),
        ));
    }
    Ok(())
}

/// A send that the system refused, in words.
pub fn send_error(to: SocketAddr, error: io::Error) -> NetError {
    match error.raw_os_error() {
        Some(libc::EACCES) => NetError::invalid(
            "broadcast",
            format!(
                "{} is a broadcast address; add --broadcast to send to it",
                to.ip()
            ),
        ),
        Some(libc::EMSGSIZE) => NetError::invalid(
            "send",
            format!("the datagram is too large for the way to {to} ({error})"),
        ),
        Some(libc::ECONNREFUSED) => NetError::UdpUnreachable { addr: to },
        Some(libc::ENETUNREACH | libc::EHOSTUNREACH) => NetError::Unreachable {
            addr: to,
            detail: error.to_string(),
        },
        _ => NetError::Io {
            action: format!("cannot send to UDP {to}"),
            source: error,
        },
    }
}

enum Step {
    Outgoing(Option<(SocketAddr, Vec<u8>)>),
    Received(io::Result<(usize, SocketAddr)>),
}

async fn run<E: From<(SessionId, UdpEvent)>>(
    socket: UdpSocket,
    config: UdpConfig,
    queue: async_channel::Receiver<(SocketAddr, Vec<u8>)>,
    events: EventSink<E>,
    counts: Arc<std::sync::Mutex<Counts>>,
) {
    let mut buffer = vec![0u8; 65_536];
    // Where the last datagram went: an ICMP error on the next read is about it.
    let mut last_target = config.peer;
    let count = |sent: bool, bytes: usize| {
        let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
        if sent {
            counts.datagrams_out += 1;
            counts.bytes_out += bytes as u64;
        } else {
            counts.datagrams_in += 1;
            counts.bytes_in += bytes as u64;
        }
    };
    loop {
        let step = async { Step::Outgoing(queue.recv().await.ok()) }
            .or(async { Step::Received(socket.recv_from(&mut buffer).await) })
            .await;
        let (to, bytes) = match step {
            Step::Outgoing(None) => return,
            Step::Outgoing(Some(datagram)) => datagram,
            Step::Received(Ok((n, from))) => {
                count(false, n);
                let received = buffer[..n].to_vec();
                let reply = match &config.reply {
                    UdpReply::Nothing => None,
                    UdpReply::Echo => Some(received.clone()),
                    UdpReply::Text(text) => Some(text.clone()),
                };
                events
                    .emit(UdpEvent::Received {
                        from,
                        bytes: received,
                    })
                    .await;
                match reply {
                    Some(reply) => (from, reply),
                    None => continue,
                }
            }
            Step::Received(Err(error)) => {
                let about = last_target.unwrap_or_else(|| local_any(&config));
                events
                    .emit(UdpEvent::Failed(send_error(about, error)))
                    .await;
                continue;
            }
        };
        last_target = Some(to);
        let sent = if config.peer == Some(to) {
            socket.send(&bytes).await
        } else {
            socket.send_to(&bytes, to).await
        };
        match sent {
            Ok(n) => {
                count(true, n);
                events.emit(UdpEvent::Sent { to, bytes }).await;
            }
            Err(error) => events.emit(UdpEvent::Failed(send_error(to, error))).await,
        }
    }
}
