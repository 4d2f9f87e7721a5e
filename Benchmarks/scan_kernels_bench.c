// Standalone check and timing of the exact-search scan kernels (Sources/AttendKernelsC/scan_*.c, attend_scan.h),
// outside SwiftPM: every ISA against a Double reference over swept shapes, the top-k against a brute-force
// selection with ties, then (with an argument N) the CPU time of one query and of a batch of 20 over N × 384 float16
// rows on 2 threads. Not part of `swift test`.
//
//   S=Sources/AttendKernelsC; clang -O2 -I$S/include Benchmarks/scan_kernels_bench.c $S/scan_*.c $S/dispatch.c \
//     $S/thread_pool.c $S/sgemm_*.c -lpthread -lm -o /tmp/scan_bench && /tmp/scan_bench 1000000
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>
#include "attend_scan.h"
#include "attend_quant.h"
static double now(void){struct timespec t;clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static uint16_t f2h(float f){ _Float16 h=(_Float16)f; uint16_t b; memcpy(&b,&h,2); return b;}
int main(int argc,char**argv){
  srand(1);
  int dims[]={1,7,15,16,17,31,33,384,385,768};
  int rowsv[]={1,2,3,5,7,15,16,17,31,33,97};
  double worst=0;
  for(int isa=0;isa<3;isa++) for(int di=0;di<10;di++) for(int ri=0;ri<11;ri++) for(int nq=1;nq<=6;nq++){
    int d=dims[di], n=rowsv[ri];
    uint16_t*x=malloc(2*n*d); int8_t*xi=malloc(n*d); float*sc=malloc(4*n); float*q=malloc(4*nq*d); float*s=malloc(4*nq*n);
    for(int i=0;i<n*d;i++){ x[i]=f2h((rand()/(float)RAND_MAX-0.5f)); xi[i]=(int8_t)(rand()%255-127);} for(int r=0;r<n;r++) sc[r]=0.01f*(1+r%3);
    for(int i=0;i<nq*d;i++) q[i]=rand()/(float)RAND_MAX-0.5f;
    for(int st=1;st<=2;st++){
      attend_scan_scores(isa,st,nq,n,d,q,d,st==1?(void*)x:(void*)xi,d,sc,s,n);
      for(int i=0;i<nq;i++) for(int r=0;r<n;r++){ double ref=0, mag=0; for(int j=0;j<d;j++){ double v= st==1? attend_half_to_float(x[r*d+j]) : xi[r*d+j]*(double)sc[r]; ref+=v*q[i*d+j]; mag+=fabs(v*q[i*d+j]);} double e=fabs(ref-s[i*n+r])/(1e-6+mag); if(e>worst){worst=e;} if(e>1e-5){printf("BAD isa %d st %d d %d n %d nq %d i %d r %d ref %g got %g\n",isa,st,d,n,nq,i,r,ref,s[i*n+r]);return 1;}}
    }
    free(x);free(xi);free(sc);free(q);free(s);
  }
  printf("scores ok worst rel %g\n",worst);
  // topk vs brute force
  for(int trial=0;trial<200;trial++){
    int n=1+rand()%3000, d=1+rand()%50, nq=1+rand()%5, k=1+rand()%20; if(trial%7==0) k=n+3;
    uint16_t*x=malloc(2*n*d); float*q=malloc(4*nq*d);
    for(int i=0;i<n*d;i++) x[i]=f2h((float)(rand()%5-2)); for(int i=0;i<nq*d;i++) q[i]=(float)(rand()%3-1);
    attend_scan_hit*out=malloc(sizeof(attend_scan_hit)*nq*(k<n?k:n));
    ptrdiff_t kk=attend_scan_topk(2,2,1,x,d,0,n,d,q,d,nq,k,out);
    for(int i=0;i<nq;i++){ float*s=malloc(4*n); attend_scan_scores(0,1,1,n,d,q+i*d,d,x,d,0,s,n);
      // brute: select kk best by (score desc,row asc)
      char*used=calloc(n,1);
      for(int t=0;t<kk;t++){ int b=-1; for(int r=0;r<n;r++) if(!used[r] && (b<0 || s[r]>s[b])) b=r; used[b]=1; if(out[i*kk+t].row!=b || out[i*kk+t].score!=s[b]){printf("TOPK BAD trial %d t %d got %ld want %d\n",trial,t,(long)out[i*kk+t].row,b);return 1;} }
      free(s);free(used);}
    free(x);free(q);free(out);
  }
  printf("topk ok\n");
  if(argc>1){ long n=atol(argv[1]); int d=384; uint16_t*x=malloc(2*n*d); for(long i=0;i<n*d;i++) x[i]=f2h((rand()%1000)/1000.0f-0.5f); float q[384*20]; for(int i=0;i<384*20;i++) q[i]=rand()/(float)RAND_MAX; attend_scan_hit out[200];
    for(int isa=0;isa<3;isa++){ if(isa==0 && n>200000) continue; for(int rep=0;rep<3;rep++){ double t0=now(); attend_scan_topk(isa,2,1,x,d,0,n,d,q,d,1,10,out); double t1=now(); attend_scan_topk(isa,2,1,x,d,0,n,d,q,d,20,10,out); double t2=now(); printf("isa %d n %ld one query %.1f ms, 20 queries %.1f ms/query\n",isa,n,(t1-t0)*1e3,(t2-t1)*1e3/20);} } }
  return 0;
}
