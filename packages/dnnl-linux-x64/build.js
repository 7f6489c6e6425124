// Builds dnnl.node against Debian's oneDNN (libdnnl-dev) and copies the shared libraries it needs
// into lib/, where the addon finds them ($ORIGIN/lib, as DT_RPATH rather than RUNPATH, so that
// oneDNN finds its own dependencies there too): the package then runs on a machine without them, as
// sharp ships libvips. Where no compiler or no oneDNN headers are found, it says so in one line and
// leaves no addon; @rxvision/backend then reports the native path missing and why.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const addon = join(here, 'dnnl.node');
const status = join(here, 'build-status.txt');
/** Libraries copied beside the addon; anything else it links is part of every glibc system. */
const BUNDLED = /^lib(dnnl|gomp|OpenCL)\.so/;

function missing(reason) {
  rmSync(addon, { force: true });
  rmSync(join(here, 'lib'), { recursive: true, force: true });
  writeFileSync(status, `${reason}\n`);
  console.log(`@rxvision/dnnl-linux-x64: no addon built: ${reason}`);
}

function which(command) {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const dnnlInclude = process.env.DNNL_INCLUDE ?? '/usr/include';
const compiler = process.env.CXX ?? which('c++') ?? which('g++');
if (process.platform !== 'linux' || process.arch !== 'x64') {
  missing(`built for linux x64 only, this is ${process.platform} ${process.arch}`);
} else if (!compiler) {
  missing('no C++ compiler (apt-get install g++)');
} else if (!existsSync(join(dnnlInclude, 'oneapi', 'dnnl', 'dnnl.hpp'))) {
  missing(`no oneDNN headers under ${dnnlInclude} (apt-get install libdnnl-dev)`);
} else {
  const napiInclude = join(dirname(createRequire(import.meta.url).resolve('node-api-headers/package.json')), 'include');
  execFileSync(
    compiler,
    ['-O2', '-std=c++17', '-shared', '-fPIC', '-fvisibility=hidden', '-fopenmp', `-I${napiInclude}`, `-I${dnnlInclude}`, join(here, 'src', 'dnnl.cc'), '-o', addon,
      '-ldnnl', "-Wl,-rpath,$ORIGIN/lib", '-Wl,--as-needed', '-Wl,--disable-new-dtags'],
    { stdio: 'inherit' },
  );
  // ldd lists each library the addon loads and where this system found it.
  const lib = join(here, 'lib');
  rmSync(lib, { recursive: true, force: true });
  mkdirSync(lib);
  const linked = execFileSync('ldd', [addon], { encoding: 'utf8' });
  const copied = [];
  for (const [, name, path] of linked.matchAll(/^\s*(\S+) => (\S+)/gm)) {
    if (!BUNDLED.test(name)) continue;
    copyFileSync(realpathSync(path), join(lib, name));
    copied.push(basename(name));
  }
  writeFileSync(status, `built with ${basename(compiler)} against oneDNN at ${dnnlInclude}; bundled ${copied.join(', ')}\n`);
  console.log(`@rxvision/dnnl-linux-x64: built dnnl.node, bundled ${copied.join(', ')}`);
}
