// The viewer page (ViewerPage), with its markers: the title, the capture (JSON: {title, video,
// people: [{id, motion}]}, each motion the JSON output format) and the two three.js files. The page has
// no other at-signs (ViewerPage.fill replaces text between two of them).
//
// What the script does, frame by frame (index i into the union of all people's frame numbers):
//   - each person: bones as line segments in their ID colour, joints as dots coloured by 2D confidence
//     (red 0 -> yellow 0.5 -> green 1), an ankle ringed white while its foot is in contact;
//   - the ground grid at the lowest foot of the capture (0 in the world frame), each person's root path
//     drawn on it;
//   - playback at the frames' own times (time_s; fps when absent), the video beside it following them;
//   - `#frame=K` in the address opens paused at frame K (links, tests); `#frame=K&size=WxH` also fixes
//     the 3D view's size.

enum ViewerTemplate {
    static let page = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
  html, body { margin: 0; height: 100%; background: #1d2025; color: #d8dce2; font: 13px system-ui, sans-serif; overflow: hidden; }
  #view { position: absolute; left: 0; top: 0; right: 0; bottom: 44px; touch-action: none; }
  #bar { position: absolute; left: 0; right: 0; bottom: 0; height: 44px; display: flex; align-items: center; gap: 10px; padding: 0 10px; background: #14161a; box-sizing: border-box; }
  #bar button { width: 64px; height: 28px; background: #2c313a; color: #e6e9ee; border: 1px solid #454c58; border-radius: 4px; }
  #slider { flex: 1; }
  #label { min-width: 170px; text-align: right; font-variant-numeric: tabular-nums; }
  #video { position: absolute; right: 10px; top: 10px; width: 32%; max-width: 480px; border: 1px solid #454c58; display: none; background: #000; }
  #legend { position: absolute; left: 10px; top: 8px; line-height: 1.6; pointer-events: none; }
  #message { position: absolute; left: 0; right: 0; top: 40%; text-align: center; font-size: 16px; }
</style>
</head>
<body>
<div id="view"></div>
<video id="video" muted playsinline preload="auto"></video>
<div id="legend"></div>
<div id="message"></div>
<div id="bar"><button id="play">Play</button><input id="slider" type="range" min="0" max="0" value="0" step="1"><span id="label"></span></div>
<script type="application/json" id="capture">@CAPTURE@</script>
<script>@THREE@</script>
<script>@ORBIT@</script>
<script>
(function () {
  "use strict";
  var body = document.body;
  var capture = JSON.parse(document.getElementById("capture").textContent);
  var people = capture.people;
  // three.js r110 renamed addAttribute to setAttribute; Debian's r111 has both.
  function attr(geometry, name, attribute) { (geometry.setAttribute || geometry.addAttribute).call(geometry, name, attribute); }
  var colours = [0x4fc3f7, 0xffb74d, 0xba68c8, 0x81c784, 0xf06292, 0x4db6ac, 0xfff176, 0x9575cd];

  // The frames of everyone, in order, with their times.
  var frameSet = {}, timeOf = {}, fps = 30;
  people.forEach(function (p) {
    fps = p.motion.fps || fps;
    p.byFrame = {};
    p.motion.frames.forEach(function (f) {
      frameSet[f.frame] = true;
      if (f.time_s !== null && f.time_s !== undefined) timeOf[f.frame] = f.time_s;
      p.byFrame[f.frame] = f;
    });
  });
  var frames = Object.keys(frameSet).map(Number).sort(function (a, b) { return a - b; });
  var n = frames.length;
  var times = frames.map(function (f, i) { return f in timeOf ? timeOf[f] : i / fps; });

  // Every point as Y up: the world frame is; a camera frame (y down, z away) is turned over.
  var yDown = /y down/.test(people[0].motion.coordinates.axes), zUp = /z up/.test(people[0].motion.coordinates.axes);
  function point(p) {
    if (yDown) return new THREE.Vector3(p[0], -p[1], -p[2]);
    if (zUp) return new THREE.Vector3(p[0], p[2], -p[1]);
    return new THREE.Vector3(p[0], p[1], p[2]);
  }
  var parents = people[0].motion.parents;
  var bones = [];
  parents.forEach(function (parent, j) { if (parent >= 0) bones.push([parent, j]); });
  var ankles = [people[0].motion.joint_names.indexOf("left_ankle"), people[0].motion.joint_names.indexOf("right_ankle")];

  // The ground: the lowest ankle of the capture, less the ankle's height above the sole, in the
  // world frame (whose ground is 0) exactly 0; the centre: the mean root.
  var lowest = Infinity, centre = new THREE.Vector3(), counted = 0, extent = 1;
  people.forEach(function (p) { p.motion.frames.forEach(function (f) {
    if (!f.joints) return;
    ankles.forEach(function (a) { lowest = Math.min(lowest, point(f.joints[a]).y); });
    var r = point(f.joints[0]); centre.add(r); counted += 1;
  }); });
  if (counted === 0) { document.getElementById("message").textContent = "No frame has a person."; body.dataset.error = "empty"; return; }
  centre.divideScalar(counted);
  var world = people[0].motion.coordinates.frame === "world" && !yDown;
  var ground = world ? 0 : lowest - 0.08;
  people.forEach(function (p) { p.motion.frames.forEach(function (f) {
    if (f.joints) extent = Math.max(extent, point(f.joints[0]).distanceTo(centre) + 1);
  }); });

  var view = document.getElementById("view");
  var renderer;
  try { renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true }); }
  catch (e) { document.getElementById("message").textContent = "This browser cannot draw 3D (WebGL): " + e.message; body.dataset.error = "webgl"; return; }
  renderer.setPixelRatio(window.devicePixelRatio || 1);
  renderer.setClearColor(0x1d2025);
  view.appendChild(renderer.domElement);
  var scene = new THREE.Scene();
  var camera = new THREE.PerspectiveCamera(40, 1, 0.02, 500);
  var controls = new THREE.OrbitControls(camera, renderer.domElement);
  controls.target.set(centre.x, ground + 0.9, centre.z);
  camera.position.set(centre.x, ground + 1.5, centre.z + 1.6 + 1.1 * extent);
  controls.update();

  var grid = new THREE.GridHelper(2 * Math.ceil(extent + 2), 2 * Math.ceil(extent + 2), 0x5a6472, 0x353b45);
  grid.position.set(Math.round(centre.x), ground, Math.round(centre.z));
  scene.add(grid);

  function confidenceColour(s) {
    if (s === null || s === undefined) return new THREE.Color(0xdddddd);
    s = Math.max(0, Math.min(1, s));
    return s < 0.5 ? new THREE.Color(1, 2 * s, 0.1) : new THREE.Color(2 - 2 * s, 1, 0.1);
  }

  var legend = [];
  people.forEach(function (p, k) {
    p.colour = colours[k % colours.length];
    var boneGeometry = new THREE.BufferGeometry();
    attr(boneGeometry, "position", new THREE.BufferAttribute(new Float32Array(bones.length * 6), 3));
    p.boneLines = new THREE.LineSegments(boneGeometry, new THREE.LineBasicMaterial({ color: p.colour }));
    scene.add(p.boneLines);
    var jointGeometry = new THREE.BufferGeometry();
    attr(jointGeometry, "position", new THREE.BufferAttribute(new Float32Array(parents.length * 3), 3));
    attr(jointGeometry, "color", new THREE.BufferAttribute(new Float32Array(parents.length * 3), 3));
    p.jointDots = new THREE.Points(jointGeometry, new THREE.PointsMaterial({ size: 9, sizeAttenuation: false, vertexColors: THREE.VertexColors }));
    scene.add(p.jointDots);
    p.contactRings = ankles.map(function () {
      var ring = new THREE.Mesh(new THREE.RingGeometry(0.05, 0.075, 24), new THREE.MeshBasicMaterial({ color: 0xffffff, side: THREE.DoubleSide }));
      ring.rotation.x = -Math.PI / 2; ring.visible = false; scene.add(ring); return ring;
    });
    // The root's path on the ground.
    var path = [];
    p.motion.frames.forEach(function (f) { if (f.joints) { var r = point(f.joints[0]); path.push(r.x, ground + 0.003, r.z); } });
    var pathGeometry = new THREE.BufferGeometry();
    attr(pathGeometry, "position", new THREE.BufferAttribute(new Float32Array(path), 3));
    scene.add(new THREE.Line(pathGeometry, new THREE.LineBasicMaterial({ color: p.colour, transparent: true, opacity: 0.55 })));
    if (p.id !== null) legend.push('<span style="color:#' + ("000000" + p.colour.toString(16)).slice(-6) + '">&#9679; person ' + p.id + "</span>");
  });
  document.getElementById("legend").innerHTML = legend.join("<br>");

  var index = 0, playing = false, clock = 0, last = null;
  var slider = document.getElementById("slider"), label = document.getElementById("label"), playButton = document.getElementById("play");
  slider.max = String(Math.max(n - 1, 0));
  var video = document.getElementById("video"), videoReady = false;
  if (capture.video) {
    video.addEventListener("loadeddata", function () { videoReady = true; video.style.display = "block"; syncVideo(); });
    video.addEventListener("error", function () { video.style.display = "none"; videoReady = false; });
    video.src = capture.video;
  }
  function syncVideo() {
    if (!videoReady) return;
    var t = times[index] - times[0];
    if (!playing || Math.abs(video.currentTime - t) > 0.25) video.currentTime = Math.max(0, t);
  }

  function show(i) {
    index = Math.max(0, Math.min(n - 1, i));
    var frame = frames[index];
    people.forEach(function (p) {
      var f = p.byFrame[frame];
      var has = !!(f && f.joints);
      p.boneLines.visible = has; p.jointDots.visible = has;
      p.contactRings.forEach(function (r) { r.visible = false; });
      if (!has) return;
      var pts = f.joints.map(point);
      var bonePositions = p.boneLines.geometry.attributes.position;
      bones.forEach(function (b, k) { bonePositions.setXYZ(2 * k, pts[b[0]].x, pts[b[0]].y, pts[b[0]].z); bonePositions.setXYZ(2 * k + 1, pts[b[1]].x, pts[b[1]].y, pts[b[1]].z); });
      bonePositions.needsUpdate = true;
      var jointPositions = p.jointDots.geometry.attributes.position, jointColours = p.jointDots.geometry.attributes.color;
      pts.forEach(function (q, j) {
        jointPositions.setXYZ(j, q.x, q.y, q.z);
        var c = confidenceColour(f.scores ? f.scores[j] : null); jointColours.setXYZ(j, c.r, c.g, c.b);
      });
      jointPositions.needsUpdate = true; jointColours.needsUpdate = true;
      [f.left_foot_contact, f.right_foot_contact].forEach(function (contact, side) {
        if (contact === 1) { var a = pts[ankles[side]]; p.contactRings[side].position.set(a.x, ground + 0.004, a.z); p.contactRings[side].visible = true; }
      });
    });
    slider.value = String(index);
    label.textContent = "frame " + frame + "  " + (times[index] - times[0]).toFixed(2) + " s / " + (times[n - 1] - times[0]).toFixed(2) + " s";
    body.dataset.frame = String(frame);
    syncVideo();
  }

  function resize() {
    var w = view.clientWidth, h = view.clientHeight;
    renderer.setSize(w, h, true);
    camera.aspect = w / Math.max(h, 1); camera.updateProjectionMatrix();
  }
  window.addEventListener("resize", resize);

  // For a test: the shown frame's joints of the first person with a pose, in page pixels.
  function projectedJoints() {
    var w = view.clientWidth, h = view.clientHeight, out = [];
    var p = people.filter(function (q) { return q.jointDots.visible; })[0];
    if (!p) return out;
    var a = p.jointDots.geometry.attributes.position;
    for (var j = 0; j < a.count; j++) {
      var v = new THREE.Vector3(a.getX(j), a.getY(j), a.getZ(j)).project(camera);
      out.push([Math.round((v.x + 1) / 2 * w * 10) / 10, Math.round((1 - v.y) / 2 * h * 10) / 10]);
    }
    return out;
  }

  function render(now) {
    if (playing && n > 1) {
      if (videoReady && !video.paused) clock = video.currentTime + times[0];
      else if (last !== null) clock += (now - last) / 1000;
      if (clock > times[n - 1]) { clock = times[0]; if (videoReady) video.currentTime = 0; }
      var i = index;
      while (i + 1 < n && times[i + 1] <= clock) i++;
      while (i > 0 && times[i] > clock) i--;
      if (i !== index) show(i);
    }
    last = now;
    controls.update();
    renderer.render(scene, camera);
    if (body.dataset.drawn !== "1") {
      body.dataset.joints = JSON.stringify(projectedJoints());
      body.dataset.drawn = "1";
    }
    requestAnimationFrame(render);
  }

  function setPlaying(on) {
    playing = on && n > 1;
    playButton.textContent = playing ? "Pause" : "Play";
    clock = times[index]; last = null;
    if (videoReady) { if (playing) video.play().catch(function () {}); else video.pause(); }
  }
  playButton.addEventListener("click", function () { setPlaying(!playing); });
  slider.addEventListener("input", function () { setPlaying(false); show(Number(slider.value)); });
  window.addEventListener("keydown", function (e) {
    if (e.key === " ") { setPlaying(!playing); e.preventDefault(); }
    else if (e.key === "ArrowRight") { setPlaying(false); show(index + 1); }
    else if (e.key === "ArrowLeft") { setPlaying(false); show(index - 1); }
  });

  // `#size=WxH`: the 3D view exactly that many pixels at the top left, whatever the window (a test
  // takes its screenshot and reads the projected joints in two browser runs with different windows).
  var fixed = /size=(\d+)x(\d+)/.exec(location.hash);
  if (fixed) { view.style.right = "auto"; view.style.bottom = "auto"; view.style.width = fixed[1] + "px"; view.style.height = fixed[2] + "px"; }
  resize();
  var start = /frame=(\d+)/.exec(location.hash);
  var first = start ? frames.indexOf(Number(start[1])) : 0;
  show(first >= 0 ? first : 0);
  body.dataset.frames = String(n);
  body.dataset.people = String(people.length);
  document.title = (capture.title || "mhformer") + ": " + n + " frames";
  setPlaying(!start);
  requestAnimationFrame(render);
})();
</script>
</body>
</html>
"""#
}
