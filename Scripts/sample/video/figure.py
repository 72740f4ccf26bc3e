"""A cheap human-like figure built around the 17 Human3.6M joints of one frame (numpy only).

build_figure(J) takes the joints of one frame (17x3, metres, world with +Y up, Human3.6M order)
and returns (verts (V,3), faces (F,3) int, face_mat (F,) int = index into MATS).

The body: a lofted torso (wide hips, waist, wide chest, twisted between the hip line and the
shoulder line), tapered limb capsules, deltoid caps, short sleeves, mitten hands, shoe
ellipsoids, and an egg-shaped head with eyes, brows, nose, mouth, ears and hair. Limb lengths
come straight from the mocap joints; only widths are invented.

The face matters: it lets a 2D detector tell front from back, and therefore left from right
(without it BlazePose swapped sides on ~10 % of frames in our tests). Clothing colours help too.

The topology depends only on the style options, never on the pose, so a renderer builds the
mesh once and then only moves the vertices each frame.
"""
import numpy as np

MATS = ["skin", "shirt", "trousers", "shoes", "hair", "eye_white", "eye_dark", "lips"]
M = {n: i for i, n in enumerate(MATS)}

UP = np.array([0.0, 1.0, 0.0])


def _n(v):
    v = np.asarray(v, float)
    return v / max(np.linalg.norm(v), 1e-9)


def _perp(v, ref):
    """Unit vector: ref made orthogonal to the unit vector v (any perpendicular if ref ∥ v)."""
    r = ref - np.dot(ref, v) * v
    if np.linalg.norm(r) < 1e-6:
        r = np.cross(v, [1.0, 0, 0])
        if np.linalg.norm(r) < 1e-6:
            r = np.cross(v, [0, 0, 1.0])
    return _n(r)


class MeshBuilder:
    def __init__(self):
        self.V, self.F, self.FM = [], [], []
        self.nv = 0

    def add(self, verts, faces, mat):
        verts = np.asarray(verts, float).reshape(-1, 3)
        faces = np.asarray(faces, int).reshape(-1, 3) + self.nv
        self.V.append(verts)
        self.F.append(faces)
        self.FM.append(np.full(len(faces), mat, int))
        self.nv += len(verts)

    def result(self):
        return np.concatenate(self.V), np.concatenate(self.F), np.concatenate(self.FM)


def _ring_faces(n_rings, n, start_pole, end_pole):
    """Faces for n_rings rings of n vertices (ring-major), with optional pole vertices after
    the rings. The winding is not reliable: fix_orientation() makes it consistent."""
    F = []
    for r in range(n_rings - 1):
        a, b = r * n, (r + 1) * n
        for k in range(n):
            k2 = (k + 1) % n
            F.append((a + k, b + k, b + k2))
            F.append((a + k, b + k2, a + k2))
    idx = n_rings * n
    if start_pole:
        p = idx; idx += 1
        for k in range(n):
            F.append((p, k, (k + 1) % n))
    if end_pole:
        p = idx; idx += 1
        a = (n_rings - 1) * n
        for k in range(n):
            F.append((p, a + (k + 1) % n, a + k))
    return np.array(F, int)


def loft(centers, A, B, wa, wb, n=16, cap0=0.0, cap1=0.0, cap_rings=3):
    """Generalised cylinder: sections centred at centers[i], ellipse half-axes wa[i] along
    A[i] and wb[i] along B[i]. cap0/cap1: length of a rounded cap beyond the first/last
    section (0 = flat pole at the section centre). Returns verts, faces."""
    centers = np.asarray(centers, float); A = np.asarray(A, float); B = np.asarray(B, float)
    wa = np.asarray(wa, float); wb = np.asarray(wb, float)
    th = np.linspace(0, 2 * np.pi, n, endpoint=False)
    c, s = np.cos(th), np.sin(th)
    rings_c, rings_A, rings_B, rings_wa, rings_wb = [], [], [], [], []

    def axis_at(i, j):
        t = centers[j] - centers[i]
        return _n(t)

    # rounded caps: extra, shrinking rings beyond the first and the last section
    ax0 = axis_at(1, 0)
    ax1 = axis_at(-2, -1)
    cap_start, cap_end = [], []
    for k in range(cap_rings, 0, -1):
        phi = k / (cap_rings + 1) * np.pi / 2
        cap_start.append((centers[0] + ax0 * cap0 * np.sin(phi), A[0], B[0], wa[0] * np.cos(phi), wb[0] * np.cos(phi)))
    for k in range(1, cap_rings + 1):
        phi = k / (cap_rings + 1) * np.pi / 2
        cap_end.append((centers[-1] + ax1 * cap1 * np.sin(phi), A[-1], B[-1], wa[-1] * np.cos(phi), wb[-1] * np.cos(phi)))
    secs = cap_start + [(centers[i], A[i], B[i], wa[i], wb[i]) for i in range(len(centers))] + cap_end
    V = []
    for (cc, aa, bb, ua, ub) in secs:
        V.append(cc[None] + np.outer(c * ua, aa) + np.outer(s * ub, bb))
    V = np.concatenate(V)
    V = np.concatenate([V, (centers[0] + ax0 * cap0)[None], (centers[-1] + ax1 * cap1)[None]])
    F = _ring_faces(len(secs), n, True, True)
    return V, F


def capsule(p0, p1, r0, r1, ref, n=14, mid=2):
    p0 = np.asarray(p0, float); p1 = np.asarray(p1, float)
    d = _n(p1 - p0)
    a = _perp(d, ref)
    b = np.cross(d, a)
    ts = np.linspace(0, 1, mid + 2)
    C = [p0 + t * (p1 - p0) for t in ts]
    R = [r0 + t * (r1 - r0) for t in ts]
    return loft(C, [a] * len(ts), [b] * len(ts), R, R, n=n, cap0=r0, cap1=r1)


def ellipsoid(c, axes, radii, n=14, rings=9):
    """axes: 3x3 rows = unit axes (a, b, h); radii along them; h is the pole axis."""
    a, b, h = [np.asarray(x, float) for x in axes]
    ra, rb, rh = radii
    C, A, B, WA, WB = [], [], [], [], []
    for k in range(1, rings + 1):
        phi = -np.pi / 2 + k * np.pi / (rings + 1)
        C.append(c + h * rh * np.sin(phi)); A.append(a); B.append(b)
        WA.append(ra * np.cos(phi)); WB.append(rb * np.cos(phi))
    V, F = loft(C, A, B, WA, WB, n=n, cap0=0.0, cap1=0.0, cap_rings=0)
    V[-2] = c - h * rh
    V[-1] = c + h * rh
    return V, F


def fix_orientation(V, F, center):
    """Flip faces whose normal points towards `center` (all our parts are star-shaped-ish)."""
    tri = V[F]
    nrm = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    out = tri.mean(1) - center
    flip = (nrm * out).sum(1) < 0
    F = F.copy()
    F[flip] = F[flip][:, ::-1]
    return F


def body_frame(J):
    """(left of the hips, left of the shoulders, torso up) unit vectors."""
    up_t = _n(J[8] - J[0])
    Lh = _perp(up_t, J[4] - J[1])
    Ls = _perp(up_t, J[11] - J[14])
    return Lh, Ls, up_t


# face/hair/shoes/hands: on or off; sleeves: "short" | "long" | "none"; bulk: width factor of
# torso and limbs; head_scale: head size factor.
DEFAULT_STYLE = dict(face=True, hair=True, sleeves="short", shoes=True, hands=True,
                     bulk=1.0, head_scale=1.0)


def build_figure(J, style=None):
    st = dict(DEFAULT_STYLE)
    if style:
        st.update(style)
    J = np.asarray(J, float)
    mb = MeshBuilder()
    k = st["bulk"]

    def put(VF, mat, center=None):
        V, F = VF
        if center is None:
            center = V.mean(0)
        mb.add(V, fix_orientation(V, F, center), mat)

    Lh, Ls, up_t = body_frame(J)
    fwd_h = _n(np.cross(Lh, up_t))
    fwd_s = _n(np.cross(Ls, up_t))
    fwd = _n(fwd_h + fwd_s)

    # ---------------- torso (loft along pelvis -> spine -> thorax) ----------------
    hipW = np.linalg.norm(J[4] - J[1])
    shW = np.linalg.norm(J[11] - J[14])
    P0, P7, P8 = J[0], J[7], J[8]
    u0 = _n(P7 - P0); u1 = _n(P8 - P7)
    secs = [  # (center, blend 0=hip frame..1=shoulder frame, half-width, half-depth, fwd offset)
        (P0 - 0.05 * u0, 0.0, max(0.5 * hipW + 0.06, 0.145), 0.105, -0.005),
        (P0 + 0.05 * u0, 0.0, max(0.5 * hipW + 0.07, 0.155), 0.11, 0.0),
        (P0 + 0.55 * (P7 - P0), 0.2, 0.135, 0.10, 0.01),
        (P7, 0.4, 0.14, 0.105, 0.015),
        (P7 + 0.55 * (P8 - P7), 0.8, max(0.5 * shW - 0.01, 0.15), 0.12, 0.02),
        (P8 - 0.035 * u1, 1.0, max(0.5 * shW + 0.0, 0.155), 0.095, 0.0),
    ]
    C, A, B, WA, WB = [], [], [], [], []
    for i, (c, bl, w, d, fo) in enumerate(secs):
        if i == 0:
            tan = u0
        elif i == len(secs) - 1:
            tan = u1
        else:
            tan = _n(secs[i + 1][0] - secs[i - 1][0])
        L = _perp(tan, (1 - bl) * Lh + bl * Ls)
        Fw = np.cross(L, tan)
        C.append(c + fo * Fw); A.append(L); B.append(Fw); WA.append(w * k); WB.append(d * k)
    V, F = loft(C, A, B, WA, WB, n=20, cap0=0.07, cap1=0.045, cap_rings=3)
    # shirt above the waist, trousers below: split by ring index
    Vt, Ft = V, fix_orientation(V, F, np.mean(C, 0))
    # ring index of each vertex (3 cap rings, 6 sections, 3 cap rings, then the 2 poles)
    n = 20
    ring = np.concatenate([np.arange(len(V) - 2) // n, [0, 12]])
    fr = ring[Ft].min(1)
    waist_ring = 3 + 2      # section 2 (between pelvis and spine) = waistband
    mat = np.where(fr >= waist_ring, M["shirt"], M["trousers"])
    mb.V.append(Vt); mb.F.append(Ft + mb.nv); mb.FM.append(mat); mb.nv += len(Vt)

    # shoulders (deltoid caps, shirt)
    for s, e in ((11, 12), (14, 15)):
        d = _n(J[e] - J[s])
        put(ellipsoid(J[s] + 0.015 * d, [_perp(d, fwd), _n(np.cross(d, _perp(d, fwd))), d],
                      (0.052 * k, 0.052 * k, 0.065 * k)), M["shirt"])

    # ---------------- neck and head ----------------
    put(capsule(P8 - 0.02 * u1, J[9] + 0.03 * _n(J[10] - J[9]), 0.055 * k, 0.05 * k, fwd, n=12), M["skin"])
    hs = st["head_scale"]
    up_h = _n(J[10] - J[9])
    f_h = _perp(up_h, fwd)
    l_h = np.cross(up_h, f_h)
    ax, ay, az = 0.077 * hs, 0.112 * hs, 0.097 * hs
    hc = J[10] - 0.10 * hs * up_h + 0.018 * f_h

    def hp(x, y, z):  # head-local point -> world
        return hc + x * l_h + y * up_h + z * f_h

    # head: an ellipsoid, narrowed towards the jaw
    V, F = ellipsoid(hc, [l_h, f_h, up_h], (ax, az, ay), n=18, rings=13)
    loc = np.stack([(V - hc) @ l_h, (V - hc) @ up_h, (V - hc) @ f_h], 1)
    y = loc[:, 1] / ay
    jaw = np.clip(-y, 0, 1)
    loc[:, 0] *= 1 - 0.28 * jaw ** 1.3
    loc[:, 2] = np.where(loc[:, 2] < 0, loc[:, 2] * (1 - 0.3 * jaw), loc[:, 2])
    V = hc + loc[:, :1] * l_h + loc[:, 1:2] * up_h + loc[:, 2:3] * f_h
    put((V, F), M["skin"], hc)

    def zs(x, y):  # z of the (undeformed) head surface
        return az * np.sqrt(max(1 - (x / ax) ** 2 - (y / ay) ** 2, 0.0))

    if st["face"]:
        for sx in (-1, 1):
            x, yy = sx * 0.031 * hs, 0.012 * hs
            z = zs(x, yy)
            put(ellipsoid(hp(x, yy, z - 0.003), [l_h, up_h, f_h], (0.014 * hs, 0.008 * hs, 0.006)), M["eye_white"])
            put(ellipsoid(hp(x, yy, z + 0.0015), [l_h, up_h, f_h], (0.0065 * hs, 0.0065 * hs, 0.004), n=10, rings=5), M["eye_dark"])
            yb = 0.034 * hs
            put(ellipsoid(hp(x * 1.05, yb, zs(x, yb) - 0.001), [l_h, up_h, f_h], (0.018 * hs, 0.0045 * hs, 0.005), n=10, rings=5), M["hair"])
            # ears
            put(ellipsoid(hp(sx * ax * 0.97, 0.0, -0.01), [f_h, up_h, l_h], (0.017 * hs, 0.03 * hs, 0.01)), M["skin"])
        yn = -0.018 * hs
        put(ellipsoid(hp(0, yn, zs(0, yn) - 0.002), [l_h, up_h, f_h], (0.012 * hs, 0.024 * hs, 0.016 * hs)), M["skin"])
        ym = -0.052 * hs
        put(ellipsoid(hp(0, ym, zs(0, ym) * 0.93), [l_h, up_h, f_h], (0.022 * hs, 0.0065 * hs, 0.006), n=12, rings=5), M["lips"])
    if st["hair"]:
        put(ellipsoid(hc + 0.024 * hs * up_h - 0.02 * hs * f_h, [l_h, f_h, up_h], (ax * 1.07, az * 0.99, ay * 0.93), n=18, rings=11), M["hair"])

    # ---------------- arms ----------------
    for s, e, w in ((11, 12, 13), (14, 15, 16)):
        bend = np.cross(J[e] - J[s], J[w] - J[e])
        bend = _n(bend) if np.linalg.norm(bend) > 1e-4 else None
        ref = fwd
        put(capsule(J[s], J[e], 0.047 * k, 0.04 * k, ref), M["skin"] if st["sleeves"] == "short" else M["shirt"])
        if st["sleeves"] == "short":
            put(capsule(J[s], J[s] + 0.5 * (J[e] - J[s]), 0.054 * k, 0.05 * k, ref, mid=1), M["shirt"])
        put(capsule(J[e], J[w], 0.041 * k, 0.029 * k, ref), M["skin"] if st["sleeves"] != "long" else M["shirt"])
        if st["hands"]:
            d = _n(J[w] - J[e])
            thick = _perp(d, bend if bend is not None else Lh)
            wide = np.cross(d, thick)
            put(ellipsoid(J[w] + 0.07 * d, [wide, thick, d], (0.043, 0.022, 0.085)), M["skin"])

    # ---------------- legs ----------------
    for h, kn, an in ((1, 2, 3), (4, 5, 6)):
        put(capsule(J[h], J[kn], 0.082 * k, 0.056 * k, fwd), M["trousers"])
        put(capsule(J[kn], J[an] - 0.02 * _n(J[an] - J[kn]), 0.054 * k, 0.042 * k, fwd), M["trousers"])
        if st["shoes"]:
            shin = _n(J[kn] - J[an])
            fd = fwd_h - np.dot(fwd_h, UP) * UP
            fd = _n(fd) if np.linalg.norm(fd) > 1e-3 else fwd
            # toe direction: mostly horizontal body-forward, tilted with the shin
            fd = _perp(shin, fd)
            side = _n(np.cross(shin, fd))
            put(ellipsoid(J[an] + 0.055 * fd - 0.05 * shin, [side, shin, fd], (0.047, 0.045, 0.135)), M["shoes"])
    return mb.result()
