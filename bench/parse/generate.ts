/**
 * A synthetic Dockerfile of N instructions shaped like real ones: several stages, mostly RUN and
 * COPY, some ENV/ARG/LABEL/WORKDIR, RUN mounts, heredocs, continuation lines, COPY --from.
 */

export function generateDockerfile(instructions: number): string {
  const stageSize = 500;
  const out: string[] = ['# syntax=docker/dockerfile:1', 'ARG BASE=alpine:3.19', 'ARG VERSION=1.0.0'];
  let n = 0;
  let stage = 0;
  while (n < instructions) {
    out.push(`FROM \${BASE} AS s${stage}`);
    n++;
    out.push('ARG VERSION');
    n++;
    for (let i = 0; i < stageSize - 2 && n < instructions; i++, n++) {
      const k = i % 20;
      switch (k) {
        case 0: out.push(`WORKDIR /src/m${i}`); break;
        case 1: out.push(i === 1 ? `ENV PATH=/opt/s${stage}/bin:$PATH LANG=C.UTF-8` : `ENV PKG_${i % 7}=value-${i}`); break;
        case 2: out.push(`COPY --chown=app:app pkg${i}/ ./pkg${i}/`); break;
        case 3: out.push(`RUN --mount=type=cache,target=/root/.cache,id=c${stage} \\\n    make -C pkg${i} VERSION=$VERSION \\\n    && strip out/bin${i}`); break;
        case 4: out.push(`LABEL com.example.step${i}="step ${i}" com.example.stage=s${stage}`); break;
        case 5: out.push(`RUN <<EOF\nset -e\necho step ${i}\ntouch /tmp/done${i}\nEOF`); break;
        case 6: out.push(stage > 0 ? `COPY --from=s${stage - 1} /src/out /prev/out${i}` : `COPY README.md /doc${i}.md`); break;
        case 7: out.push(i % 100 === 7 ? `ARG OPT_${i}=default-${i}` : `ENV STEP=${i}`); break;
        case 8: out.push(`RUN ["/bin/sh", "-c", "echo exec form ${i}"]`); break;
        case 9: out.push(`COPY --link --chmod=0644 conf/app${i}.yml /etc/app/`); break;
        case 10: out.push(`RUN --network=none --mount=type=bind,source=scripts,target=/scripts sh /scripts/s${i}.sh`); break;
        case 11: out.push(`EXPOSE ${8000 + (i % 1000)}/tcp`); break;
        case 12: out.push(`USER ${i % 2 === 0 ? 'app' : 'root'}`); break;
        case 13: out.push(`ADD --checksum=sha256:${'ab'.repeat(32)} https://example.com/dl/tool${i}.tgz /opt/`); break;
        case 14: out.push(`RUN apt-get install -y pkg-${i} && rm -rf /var/lib/apt/lists/*`); break;
        case 15: out.push(`VOLUME /data/v${i}`); break;
        case 16: out.push(`COPY <<CONF /etc/conf${i}.ini\n[main]\nname=\${VERSION}\nCONF`); break;
        case 17: out.push(`HEALTHCHECK --interval=30s --timeout=3s CMD wget -q -O- http://localhost:${8000 + i}/`); break;
        case 18: out.push(`RUN --mount=type=secret,id=token,env=TOKEN curl -H "Authorization: $TOKEN" https://api/${i}`); break;
        default: out.push(`CMD ["/app", "--step", "${i}"]`); break;
      }
    }
    stage++;
  }
  return `${out.join('\n')}\n`;
}

/** The hostile shape of issue 14: one stage of N-2 ENV lines and a RUN that sees them all. */
export function generateEnvDockerfile(instructions: number): string {
  const out: string[] = ['FROM alpine'];
  for (let i = 0; i < instructions - 2; i++) out.push(`ENV V${i}=x${i}`);
  out.push('RUN true');
  return `${out.join('\n')}\n`;
}

export type Shape = 'mixed' | 'env';

export function generate(shape: Shape, instructions: number): string {
  return shape === 'env' ? generateEnvDockerfile(instructions) : generateDockerfile(instructions);
}
